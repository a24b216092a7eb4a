import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AccessService } from '../access/access.service';
import { MembershipBus } from '../access/membership-bus.service';
import { AppException } from '../common/app.exception';
import type { EventEnvelope } from '../messages/message.view';
import { ChannelLog } from '../messages/channel-log';
import { PresenceService } from '../presence/presence.service';
import { assertRemoval, assertRoleChange, MemberChange } from './member-rules';
import type { WorkspaceRole } from './workspace-member.entity';
import type { MemberView } from './workspace.view';

interface MemberRow {
  user_id: string;
  display_name: string;
  role: WorkspaceRole;
}

/**
 * Workspace membership. Role changes and removals lock the workspace row (FOR NO KEY UPDATE, which
 * still lets invites insert members) so the "last owner" check cannot race another demotion.
 */
@Injectable()
export class MembersService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly access: AccessService,
    private readonly membershipBus: MembershipBus,
    private readonly log: ChannelLog,
    private readonly presence: PresenceService,
  ) {}

  async list(callerId: string, workspaceId: string): Promise<MemberView[]> {
    await this.access.requireWorkspaceMember(workspaceId, callerId);
    const rows: MemberRow[] = await this.dataSource.query(
      `SELECT m.user_id, u.display_name, m.role
         FROM workspace_members m JOIN users u ON u.id = m.user_id
        WHERE m.workspace_id = $1
        ORDER BY array_position(ARRAY['owner','admin','member','guest']::varchar[], m.role), u.display_name, u.id`,
      [workspaceId],
    );
    return this.withPresence(rows);
  }

  async changeRole(callerId: string, workspaceId: string, targetId: string, role: WorkspaceRole): Promise<MemberView> {
    const userId = targetId.toLowerCase();
    await this.access.requireWorkspaceMember(workspaceId, callerId);
    const { member, changed } = await this.dataSource.transaction(async (manager) => {
      const current = await this.lockAndCheck(manager, workspaceId, callerId, userId);
      assertRoleChange(current, role);
      if (current.targetRole === role) return { member: current.target, changed: false };
      await manager.query('UPDATE workspace_members SET role = $3 WHERE workspace_id = $1 AND user_id = $2', [
        workspaceId,
        userId,
        role,
      ]);
      return { member: { ...current.target, role }, changed: true };
    });
    if (changed) await this.membershipBus.changed({ workspaceId, userId });
    const [view] = await this.withPresence([member]);
    return view;
  }

  /**
   * Removes a member (or lets them leave): their channel memberships in the workspace go with a
   * `member.left` each, and every node drops their sockets from the workspace's rooms before we answer.
   */
  async remove(callerId: string, workspaceId: string, targetId: string): Promise<void> {
    const userId = targetId.toLowerCase();
    await this.access.requireWorkspaceMember(workspaceId, callerId);
    await this.log.transaction(async (manager): Promise<EventEnvelope[]> => {
      const current = await this.lockAndCheck(manager, workspaceId, callerId, userId);
      assertRemoval(current);
      // The member row goes first: channel joins share-lock it, so none can slip in after this.
      await manager.query('DELETE FROM workspace_members WHERE workspace_id = $1 AND user_id = $2', [
        workspaceId,
        userId,
      ]);
      // Removed by someone else: the invites made until now no longer let them back in.
      if (userId !== callerId.toLowerCase()) {
        await manager.query(
          `INSERT INTO workspace_removals (workspace_id, user_id, removed_by) VALUES ($1, $2, $3)
           ON CONFLICT (workspace_id, user_id) DO UPDATE SET removed_at = now(), removed_by = EXCLUDED.removed_by`,
          [workspaceId, userId, callerId],
        );
      }
      const channels: { id: string }[] = await manager.query(
        `SELECT c.id FROM channels c JOIN channel_members m ON m.channel_id = c.id
          WHERE m.workspace_id = $1 AND m.user_id = $2 AND c.workspace_id = $1
          ORDER BY c.id FOR UPDATE OF c`,
        [workspaceId, userId],
      );
      await manager.query('DELETE FROM channel_members WHERE workspace_id = $1 AND user_id = $2', [
        workspaceId,
        userId,
      ]);
      const appended: EventEnvelope[] = [];
      for (const channel of channels) {
        appended.push(
          ...(await this.log.append(manager, channel.id, [
            { type: 'member.left', data: { userId } },
          ])),
        );
      }
      return appended;
    });
    // PROTOCOL guarantee 6: resolves once every node has dropped the user's rooms.
    await this.membershipBus.changed({ workspaceId, userId, removed: true });
  }

  /** Locks the workspace and reads the caller's and the target's roles as they are now. */
  private async lockAndCheck(
    manager: EntityManager,
    workspaceId: string,
    callerId: string,
    targetId: string,
  ): Promise<MemberChange & { target: MemberRow }> {
    const locked: unknown[] = await manager.query('SELECT 1 FROM workspaces WHERE id = $1 FOR NO KEY UPDATE', [
      workspaceId,
    ]);
    if (locked.length === 0) throw AppException.notFound('Workspace');
    const rows: (MemberRow & { owner_count: string })[] = await manager.query(
      `SELECT m.user_id, u.display_name, m.role,
              (SELECT count(*) FROM workspace_members o WHERE o.workspace_id = $1 AND o.role = 'owner') AS owner_count
         FROM workspace_members m JOIN users u ON u.id = m.user_id
        WHERE m.workspace_id = $1 AND m.user_id = ANY($2::uuid[])`,
      [workspaceId, [callerId, targetId]],
    );
    const caller = rows.find((row) => row.user_id === callerId);
    if (!caller) throw AppException.notFound('Workspace');
    const target = rows.find((row) => row.user_id === targetId);
    if (!target) throw AppException.notFound('Member');
    return {
      callerId,
      callerRole: caller.role,
      targetId,
      targetRole: target.role,
      ownerCount: Number(caller.owner_count),
      target,
    };
  }

  /** One Redis round trip for every member's presence. */
  private async withPresence(rows: MemberRow[]): Promise<MemberView[]> {
    const statuses = await this.presence.statuses(rows.map((row) => row.user_id));
    return rows.map((row) => ({
      userId: row.user_id,
      displayName: row.display_name,
      role: row.role,
      presence: statuses.get(row.user_id) ?? 'offline',
    }));
  }
}
