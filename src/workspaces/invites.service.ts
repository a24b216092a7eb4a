import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AccessService } from '../access/access.service';
import { MembershipBus } from '../access/membership-bus.service';
import { ChannelsService, MembersAdded } from '../channels/channels.service';
import { AppException } from '../common/app.exception';
import { ChannelLog } from '../messages/channel-log';
import { DEFAULT_INVITE_HOURS, InviteRole } from './dto/invite.dto';
import type { WorkspaceRole } from './workspace-member.entity';
import { GENERAL_CHANNEL } from './workspaces.service';

const CODE_BYTES = 18;
const MAX_CODE_LENGTH = 64;

export interface InviteView {
  code: string;
  expiresAt: string;
  role: InviteRole;
  maxUses: number | null;
}

@Injectable()
export class InvitesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly access: AccessService,
    private readonly membershipBus: MembershipBus,
    private readonly channels: ChannelsService,
    private readonly log: ChannelLog,
  ) {}

  async create(
    callerId: string,
    workspaceId: string,
    input: { role?: InviteRole; maxUses?: number; expiresInHours?: number },
  ): Promise<InviteView> {
    await this.access.requireWorkspaceAdmin(workspaceId, callerId);
    // 144 random bits: unguessable, and the code is the only secret an invitee needs.
    const code = randomBytes(CODE_BYTES).toString('base64url');
    const rows: { expires_at: Date }[] = await this.dataSource.query(
      `INSERT INTO invites (workspace_id, code, role, max_uses, expires_at, created_by)
       VALUES ($1, $2, $3, $4, now() + make_interval(hours => $5), $6) RETURNING expires_at`,
      [
        workspaceId,
        code,
        input.role ?? 'member',
        input.maxUses ?? null,
        input.expiresInHours ?? DEFAULT_INVITE_HOURS,
        callerId,
      ],
    );
    return {
      code,
      expiresAt: rows[0].expires_at.toISOString(),
      role: input.role ?? 'member',
      maxUses: input.maxUses ?? null,
    };
  }

  /** Owners and admins end an invite; its code answers 404 from then on. */
  async revoke(callerId: string, workspaceId: string, code: string): Promise<void> {
    await this.access.requireWorkspaceAdmin(workspaceId, callerId);
    if (code.length > MAX_CODE_LENGTH) throw AppException.notFound('Invite');
    const [, revoked]: [unknown[], number] = await this.dataSource.query(
      'UPDATE invites SET revoked_at = now() WHERE workspace_id = $1 AND code = $2 AND revoked_at IS NULL RETURNING id',
      [workspaceId, code],
    );
    if (revoked === 0) throw AppException.notFound('Invite');
  }

  /**
   * Joins the invite's workspace and its `general`. A use is consumed by a conditional UPDATE, so
   * concurrent accepts never exceed maxUses; an existing member keeps their role and spends nothing.
   */
  async accept(callerId: string, code: string): Promise<{ workspaceId: string; userId: string; role: WorkspaceRole }> {
    if (code.length > MAX_CODE_LENGTH) throw AppException.notFound('Invite');
    const outcome = await this.log.transaction(async (manager) => {
      // Revoked, expired, or made before an admin removed the caller: as if the code did not exist.
      const invites: { id: string; workspace_id: string; role: InviteRole }[] = await manager.query(
        `SELECT i.id, i.workspace_id, i.role FROM invites i
          WHERE i.code = $1 AND i.expires_at > now() AND i.revoked_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM workspace_removals r
                             WHERE r.workspace_id = i.workspace_id AND r.user_id = $2 AND r.removed_at >= i.created_at)`,
        [code, callerId],
      );
      if (invites.length === 0) throw AppException.notFound('Invite');
      const invite = invites[0];
      const joined: unknown[] = await manager.query(
        `INSERT INTO workspace_members (workspace_id, user_id, role) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING RETURNING role`,
        [invite.workspace_id, callerId, invite.role],
      );
      if (joined.length === 0) {
        const existing: { role: WorkspaceRole }[] = await manager.query(
          'SELECT role FROM workspace_members WHERE workspace_id = $1 AND user_id = $2',
          [invite.workspace_id, callerId],
        );
        return { workspaceId: invite.workspace_id, role: existing[0].role, general: null, joined: false };
      }
      // TypeORM answers an UPDATE with [rows, affected].
      const [, consumed]: [unknown[], number] = await manager.query(
        `UPDATE invites SET uses = uses + 1
          WHERE id = $1 AND expires_at > now() AND (max_uses IS NULL OR uses < max_uses) RETURNING id`,
        [invite.id],
      );
      // Used up: the exception rolls the membership back.
      if (consumed === 0) throw AppException.notFound('Invite');
      const channels: { id: string }[] = await manager.query(
        'SELECT id FROM channels WHERE workspace_id = $1 AND name = $2',
        [invite.workspace_id, GENERAL_CHANNEL],
      );
      const general: MembersAdded | null = channels.length
        ? await this.channels.addMembersInTransaction(manager, invite.workspace_id, channels[0].id, [callerId])
        : null;
      return { workspaceId: invite.workspace_id, role: invite.role as WorkspaceRole, general, joined: true };
    });
    if (outcome.joined) {
      // Workspace-level: every node joins the user's sockets to the workspace and to `general`.
      await this.membershipBus.changed({ workspaceId: outcome.workspaceId, userId: callerId });
    }
    return { workspaceId: outcome.workspaceId, userId: callerId, role: outcome.role };
  }
}
