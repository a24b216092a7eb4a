import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AccessService } from '../access/access.service';
import { MembershipBus } from '../access/membership-bus.service';
import { ChannelMembersRepository } from '../channels/channel-members.repository';
import { ChannelLog } from '../messages/channel-log';
import { ChannelsRepository } from '../channels/channels.repository';
import { AppException } from '../common/app.exception';
import { PresenceService } from '../presence/presence.service';
import { assertRemoval, assertRoleChange, MemberChange } from './member-rules';
import type { WorkspaceRole } from './workspace-member.entity';
import { NamedMember, WorkspaceMembersRepository } from './workspace-members.repository';
import type { MemberView } from './workspace.view';
import { WorkspacesRepository } from './workspaces.repository';

/**
 * Workspace membership. Role changes and removals lock the workspace row (FOR NO KEY UPDATE, which
 * still lets invites insert members) so the "last owner" check cannot race another demotion.
 */
@Injectable()
export class MembersService {
  constructor(
    private readonly access: AccessService,
    private readonly membershipBus: MembershipBus,
    private readonly log: ChannelLog,
    private readonly presence: PresenceService,
    private readonly workspaces: WorkspacesRepository,
    private readonly members: WorkspaceMembersRepository,
    private readonly channels: ChannelsRepository,
    private readonly channelMembers: ChannelMembersRepository,
  ) {}

  async list(callerId: string, workspaceId: string): Promise<MemberView[]> {
    await this.access.requireWorkspaceMember(workspaceId, callerId);
    return this.withPresence(await this.members.list(workspaceId));
  }

  async changeRole(callerId: string, workspaceId: string, targetId: string, role: WorkspaceRole): Promise<MemberView> {
    const userId = targetId.toLowerCase();
    await this.access.requireWorkspaceMember(workspaceId, callerId);
    const { member, changed } = await this.log.transaction(async (manager) => {
      const current = await this.lockAndCheck(manager, workspaceId, callerId, userId);
      assertRoleChange(current, role);
      if (current.targetRole === role) return { member: current.target, changed: false };
      await this.members.updateRole(manager, workspaceId, userId, role);
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
    await this.log.transaction(async (manager) => {
      const current = await this.lockAndCheck(manager, workspaceId, callerId, userId);
      assertRemoval(current);
      // The member row goes first: channel joins share-lock it, so none can slip in after this.
      await this.members.delete(manager, workspaceId, userId);
      // Removed by someone else: the invites made until now no longer let them back in.
      if (userId !== callerId.toLowerCase()) await this.members.recordRemoval(manager, workspaceId, userId, callerId);
      const channelIds = await this.channels.lockMemberChannels(manager, workspaceId, userId);
      await this.channelMembers.deleteFromWorkspace(manager, workspaceId, userId);
      for (const channelId of channelIds)
        await this.log.append(manager, channelId, [{ type: 'member.left', data: { userId } }]);
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
  ): Promise<MemberChange & { target: NamedMember }> {
    if (!(await this.workspaces.lockForMemberChange(manager, workspaceId))) throw AppException.notFound('Workspace');
    const { members, ownerCount } = await this.members.findWithOwnerCount(manager, workspaceId, [callerId, targetId]);
    const caller = members.find((member) => member.userId === callerId);
    if (!caller) throw AppException.notFound('Workspace');
    const target = members.find((member) => member.userId === targetId);
    if (!target) throw AppException.notFound('Member');
    return { callerId, callerRole: caller.role, targetId, targetRole: target.role, ownerCount, target };
  }

  /** One Redis round trip for every member's presence. */
  private async withPresence(members: NamedMember[]): Promise<MemberView[]> {
    const statuses = await this.presence.statuses(members.map((member) => member.userId));
    return members.map((member) => ({
      userId: member.userId,
      displayName: member.displayName,
      role: member.role,
      presence: statuses.get(member.userId) ?? 'offline',
    }));
  }
}
