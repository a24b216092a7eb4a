import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AccessService } from '../access/access.service';
import { AppException } from '../common/app.exception';
import type { EventEnvelope } from '../messages/message.view';
import { ChannelMembersService, MembersAdded } from './channel-members.service';
import { ChannelLog } from '../messages/channel-log';
import type { ChannelKind } from './channel.entity';
import { ChannelListItem, ChannelView, directMessageKey, toChannelListItem, toChannelView } from './channel.view';
import { ChannelsRepository } from './channels.repository';

export interface NewChannel {
  workspaceId: string;
  name: string | null;
  kind: ChannelKind;
  createdBy: string;
  dmKey?: string | null;
  /** Everyone who starts in the channel, the creator included. */
  memberIds: string[];
}

/** Channels and DMs: creating, opening and listing them. Membership changes are ChannelMembersService's. */
@Injectable()
export class ChannelsService {
  constructor(
    private readonly access: AccessService,
    private readonly log: ChannelLog,
    private readonly members: ChannelMembersService,
    private readonly channels: ChannelsRepository,
  ) {}

  async create(
    callerId: string,
    workspaceId: string,
    input: { name: string; kind: 'public' | 'private'; memberIds?: string[] },
  ): Promise<ChannelView> {
    const role = await this.access.requireWorkspaceMember(workspaceId, callerId);
    if (role === 'guest') throw AppException.forbidden('Guests may not create channels');
    const memberIds = [...new Set([callerId, ...(input.memberIds ?? [])])];
    const { channel, added } = await this.log.transaction(async (manager) => {
      const created = await this.createInTransaction(manager, {
        workspaceId,
        name: input.name,
        kind: input.kind,
        createdBy: callerId,
        memberIds,
      });
      if (!created) throw AppException.conflict(`A channel named "${input.name}" already exists in this workspace`);
      if (created.missing.length > 0) throw AppException.notFound('User');
      return created;
    });
    await this.members.announceJoins(workspaceId, channel.id, added);
    return channel;
  }

  /**
   * Inserts a channel with its first members inside the caller's transaction (also used for a
   * workspace's `general`). Answers null when the name (or DM key) is taken.
   */
  async createInTransaction(
    manager: EntityManager,
    input: NewChannel,
  ): Promise<(MembersAdded & { channel: ChannelView }) | null> {
    const channel = await this.channels.insertIfAbsent(manager, {
      workspaceId: input.workspaceId,
      name: input.name,
      kind: input.kind,
      dmKey: input.dmKey ?? null,
      createdBy: input.createdBy,
    });
    if (!channel) return null;
    const result = await this.members.addInTransaction(manager, input.workspaceId, channel.id, input.memberIds);
    return { ...result, channel: withHead(toChannelView(channel), result.events) };
  }

  /** Public channels for non-guests plus every channel the caller is in, with unread counts. */
  async list(callerId: string, workspaceId: string): Promise<ChannelListItem[]> {
    const role = await this.access.requireWorkspaceMember(workspaceId, callerId);
    const rows = await this.channels.listVisible(workspaceId, callerId, role !== 'guest');
    return rows.map(toChannelListItem);
  }

  /** The DM of exactly `userIds` plus the caller; the unique dm_key makes concurrent opens meet on one row. */
  async openDirect(
    callerId: string,
    workspaceId: string,
    userIds: string[],
  ): Promise<{ channel: ChannelView; created: boolean }> {
    await this.access.requireWorkspaceMember(workspaceId, callerId);
    const memberIds = [...new Set([callerId, ...userIds.map((id) => id.toLowerCase())])];
    const dmKey = directMessageKey(memberIds);
    const outcome = await this.log.transaction(async (manager) => {
      const fresh = await this.createInTransaction(manager, {
        workspaceId,
        name: null,
        kind: 'direct',
        createdBy: callerId,
        dmKey,
        memberIds,
      });
      if (fresh) {
        if (fresh.missing.length > 0) throw AppException.notFound('User');
        return { ...fresh, created: true };
      }
      // The insert met the committed row of this key (ON CONFLICT waits for it), so it is there.
      const existing = await this.channels.findDirect(manager, workspaceId, dmKey);
      if (!existing) throw new Error(`DM ${dmKey} conflicted but is not visible`);
      // Someone who left the workspace and came back is put back into the DM.
      const result = await this.members.addInTransaction(manager, workspaceId, existing.id, memberIds);
      if (result.missing.length > 0) throw AppException.notFound('User');
      return { ...result, channel: withHead(toChannelView(existing), result.events), created: false };
    });
    await this.members.announceJoins(workspaceId, outcome.channel.id, outcome.added);
    return { channel: outcome.channel, created: outcome.created };
  }
}

/** The head after this transaction's events, which the row read before them predates. */
function withHead(channel: ChannelView, events: EventEnvelope[]): ChannelView {
  return events.length ? { ...channel, headSeq: events[events.length - 1].seq } : channel;
}
