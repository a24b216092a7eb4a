import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AccessService } from '../access/access.service';
import { MembershipBus } from '../access/membership-bus.service';
import { ChannelMembersService } from '../channels/channel-members.service';
import { ChannelLog } from '../messages/channel-log';
import { ChannelsRepository } from '../channels/channels.repository';
import { AppException } from '../common/app.exception';
import { DEFAULT_INVITE_HOURS, InviteRole } from './dto/invite.dto';
import { InvitesRepository } from './invites.repository';
import type { WorkspaceRole } from './workspace-member.entity';
import { WorkspaceMembersRepository } from './workspace-members.repository';
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
    private readonly access: AccessService,
    private readonly membershipBus: MembershipBus,
    private readonly log: ChannelLog,
    private readonly channelMembers: ChannelMembersService,
    private readonly channels: ChannelsRepository,
    private readonly invites: InvitesRepository,
    private readonly members: WorkspaceMembersRepository,
  ) {}

  async create(
    callerId: string,
    workspaceId: string,
    input: { role?: InviteRole; maxUses?: number; expiresInHours?: number },
  ): Promise<InviteView> {
    await this.access.requireWorkspaceAdmin(workspaceId, callerId);
    // 144 random bits: unguessable, and the code is the only secret an invitee needs.
    const invite = await this.invites.insert({
      workspaceId,
      code: randomBytes(CODE_BYTES).toString('base64url'),
      role: input.role ?? 'member',
      maxUses: input.maxUses ?? null,
      expiresInHours: input.expiresInHours ?? DEFAULT_INVITE_HOURS,
      createdBy: callerId,
    });
    return { code: invite.code, expiresAt: invite.expiresAt.toISOString(), role: invite.role, maxUses: invite.maxUses };
  }

  /** Owners and admins end an invite; its code answers 404 from then on. */
  async revoke(callerId: string, workspaceId: string, code: string): Promise<void> {
    await this.access.requireWorkspaceAdmin(workspaceId, callerId);
    if (code.length > MAX_CODE_LENGTH) throw AppException.notFound('Invite');
    if (!(await this.invites.revoke(workspaceId, code))) throw AppException.notFound('Invite');
  }

  /**
   * Joins the invite's workspace and its `general`. A use is consumed by a conditional UPDATE, so
   * concurrent accepts never exceed maxUses; an existing member keeps their role and spends nothing.
   */
  async accept(callerId: string, code: string): Promise<{ workspaceId: string; userId: string; role: WorkspaceRole }> {
    if (code.length > MAX_CODE_LENGTH) throw AppException.notFound('Invite');
    const outcome = await this.log.transaction(async (manager) => {
      // Revoked, expired, or made before an admin removed the caller: as if the code did not exist.
      const invite = await this.invites.findAcceptable(manager, code, callerId);
      if (!invite) throw AppException.notFound('Invite');
      const { workspaceId } = invite;
      if (!(await this.members.insertIfAbsent(manager, workspaceId, callerId, invite.role))) {
        const role = await this.members.findRole(workspaceId, callerId, manager);
        return { workspaceId, role: role ?? invite.role, joined: false };
      }
      // Used up: the exception rolls the membership back.
      if (!(await this.invites.consumeUse(manager, invite.id))) throw AppException.notFound('Invite');
      const general = await this.channels.findByName(manager, workspaceId, GENERAL_CHANNEL);
      if (general) await this.channelMembers.addInTransaction(manager, workspaceId, general.id, [callerId]);
      return { workspaceId, role: invite.role as WorkspaceRole, joined: true };
    });
    // Workspace-level: every node joins the user's sockets to the workspace and to `general`.
    if (outcome.joined) await this.membershipBus.changed({ workspaceId: outcome.workspaceId, userId: callerId });
    return { workspaceId: outcome.workspaceId, userId: callerId, role: outcome.role };
  }
}
