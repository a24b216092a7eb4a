import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AccessService, isAdminRole } from '../access/access.service';
import { MembershipBus } from '../access/membership-bus.service';
import { AppException } from '../common/app.exception';
import type { EventEnvelope } from '../messages/message.view';
import { WorkspaceMembersRepository } from '../workspaces/workspace-members.repository';
import { ChannelMembersRepository } from './channel-members.repository';
import { ChannelLog } from '../messages/channel-log';
import { ChannelView, toChannelView } from './channel.view';
import { ChannelsRepository } from './channels.repository';

export interface MembersAdded {
  added: string[];
  /** Requested ids that are not (or no longer) members of the workspace. */
  missing: string[];
  events: EventEnvelope[];
}

/**
 * Who is in a channel. Every change appends `member.joined` or `member.left` to the channel log in
 * its transaction and then waits for MembershipBus, so access caches and socket rooms on every node
 * follow before we answer.
 *
 * Lock order, to stay free of deadlocks: workspace row (role changes, removals), then the
 * workspace_members rows, then channel rows in id order.
 */
@Injectable()
export class ChannelMembersService {
  constructor(
    private readonly access: AccessService,
    private readonly membershipBus: MembershipBus,
    private readonly log: ChannelLog,
    private readonly channels: ChannelsRepository,
    private readonly members: ChannelMembersRepository,
    private readonly workspaceMembers: WorkspaceMembersRepository,
  ) {}

  /**
   * Adds workspace members to a channel, skipping those already in it, with a `member.joined`
   * event each. The workspace_members rows are share-locked first so a concurrent removal from
   * the workspace cannot leave a channel member behind.
   */
  async addInTransaction(
    manager: EntityManager,
    workspaceId: string,
    channelId: string,
    requestedIds: string[],
  ): Promise<MembersAdded> {
    const userIds = [...new Set(requestedIds.map((id) => id.toLowerCase()))];
    const present = await this.workspaceMembers.lockPresent(manager, workspaceId, userIds);
    const missing = userIds.filter((id) => !present.includes(id));
    if (!(await this.channels.lock(manager, workspaceId, channelId))) throw AppException.notFound('Channel');
    const added = await this.members.insertMany(manager, workspaceId, channelId, present);
    const events = added.length
      ? await this.log.append(
          manager,
          channelId,
          added.map((userId) => ({ type: 'member.joined' as const, data: { userId } })),
        )
      : [];
    return { added, missing, events };
  }

  /** Joins a public channel; joining again changes nothing. */
  async join(callerId: string, workspaceId: string, channelId: string): Promise<ChannelView> {
    const access = await this.access.requireChannelVisible(channelId, callerId, workspaceId);
    if (access.kind !== 'public') throw AppException.notFound('Channel');
    const { added } = await this.log.transaction(async (manager) => {
      const result = await this.addInTransaction(manager, workspaceId, channelId, [callerId]);
      if (result.missing.length > 0) throw AppException.notFound('Channel');
      return result;
    });
    await this.announceJoins(workspaceId, channelId, added);
    const channel = await this.channels.find(workspaceId, channelId);
    if (!channel) throw AppException.notFound('Channel');
    return toChannelView(channel);
  }

  /** Channel members and workspace owners/admins may add any workspace member (not to a DM). */
  async addMember(
    callerId: string,
    workspaceId: string,
    channelId: string,
    userId: string,
  ): Promise<{ channelId: string; userId: string }> {
    const access = await this.access.requireChannelVisible(channelId, callerId, workspaceId);
    if (!access.isMember && !isAdminRole(access.role))
      throw AppException.forbidden('Only channel members and admins may add members');
    if (access.kind === 'direct')
      throw AppException.forbidden('A DM has a fixed set of members; open a DM with the new set instead');
    const { added } = await this.log.transaction(async (manager) => {
      const result = await this.addInTransaction(manager, workspaceId, channelId, [userId]);
      if (result.missing.length > 0) throw AppException.notFound('User');
      return result;
    });
    await this.announceJoins(workspaceId, channelId, added);
    return { channelId, userId };
  }

  /** Owners/admins remove anyone; anyone leaves. DM membership is fixed. */
  async remove(callerId: string, workspaceId: string, channelId: string, targetId: string): Promise<void> {
    const userId = targetId.toLowerCase();
    const access = await this.access.requireChannelVisible(channelId, callerId, workspaceId);
    if (userId !== callerId && !isAdminRole(access.role))
      throw AppException.forbidden('Only owners and admins may remove others');
    if (access.kind === 'direct') throw AppException.forbidden('Nobody leaves or is removed from a DM');
    await this.log.transaction(async (manager) => {
      if (!(await this.channels.lock(manager, workspaceId, channelId))) throw AppException.notFound('Channel');
      if (!(await this.members.delete(manager, workspaceId, channelId, userId)))
        throw AppException.notFound('Channel member');
      await this.log.append(manager, channelId, [{ type: 'member.left', data: { userId } }]);
    });
    // PROTOCOL guarantee 6: the removal holds on every node before we answer.
    await this.membershipBus.changed({ workspaceId, channelId, userId, removed: true });
  }

  /** Lets every node's cache and socket rooms learn about new channel members. */
  async announceJoins(workspaceId: string, channelId: string, userIds: string[]): Promise<void> {
    await Promise.all(userIds.map((userId) => this.membershipBus.changed({ workspaceId, channelId, userId })));
  }
}
