import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AccessService, isAdminRole } from '../access/access.service';
import { MembershipBus } from '../access/membership-bus.service';
import { AppException } from '../common/app.exception';
import { FanoutService } from '../fanout/fanout.service';
import type { EventEnvelope } from '../messages/message.view';
import { unheardCountSql } from '../listening/unheard.sql';
import { MessagesService } from '../messages/messages.service';
import type { ChannelKind } from './channel.entity';
import { ChannelListItem, ChannelRow, ChannelView, directMessageKey, toChannelView } from './channel.view';

export interface NewChannel {
  workspaceId: string;
  name: string | null;
  kind: ChannelKind;
  createdBy: string;
  dmKey?: string | null;
  /** Everyone who starts in the channel, the creator included. */
  memberIds: string[];
}

export interface MembersAdded {
  added: string[];
  /** Requested ids that are not (or no longer) members of the workspace. */
  missing: string[];
  events: EventEnvelope[];
}

/**
 * Channels, their membership and DMs. Every membership change appends `member.joined` or
 * `member.left` to the channel log in the same transaction, publishes it after commit and then
 * waits for MembershipBus, so access caches and socket rooms on every node follow before we answer.
 *
 * Lock order, to stay free of deadlocks: workspace row (role changes, removals), then the
 * workspace_members rows, then channel rows in id order.
 */
@Injectable()
export class ChannelsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly access: AccessService,
    private readonly membershipBus: MembershipBus,
    private readonly messages: MessagesService,
    private readonly fanout: FanoutService,
  ) {}

  async create(
    callerId: string,
    workspaceId: string,
    input: { name: string; kind: 'public' | 'private'; memberIds?: string[] },
  ): Promise<ChannelView> {
    const role = await this.access.requireWorkspaceMember(workspaceId, callerId);
    if (role === 'guest') throw AppException.forbidden('Guests may not create channels');
    const memberIds = [...new Set([callerId, ...(input.memberIds ?? [])])];
    const { channel, added, events } = await this.dataSource.transaction(async (manager) => {
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
    this.fanout.publishEvents(events);
    await this.announceJoins(workspaceId, channel.id, added);
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
    const rows: ChannelRow[] = await manager.query(
      `INSERT INTO channels (workspace_id, name, kind, dm_key, created_by) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING RETURNING *`,
      [input.workspaceId, input.name, input.kind, input.dmKey ?? null, input.createdBy],
    );
    if (rows.length === 0) return null;
    const result = await this.addMembersInTransaction(manager, input.workspaceId, rows[0].id, input.memberIds);
    return { ...result, channel: withHead(toChannelView(rows[0]), result.events) };
  }

  /**
   * Adds workspace members to a channel, skipping those already in it, with a `member.joined`
   * event each. The workspace_members rows are share-locked first so a concurrent removal from
   * the workspace cannot leave a channel member behind.
   */
  async addMembersInTransaction(
    manager: EntityManager,
    workspaceId: string,
    channelId: string,
    requestedIds: string[],
  ): Promise<MembersAdded> {
    const userIds = [...new Set(requestedIds.map((id) => id.toLowerCase()))];
    const present: { user_id: string }[] = await manager.query(
      `SELECT user_id FROM workspace_members WHERE workspace_id = $1 AND user_id = ANY($2::uuid[])
        ORDER BY user_id FOR KEY SHARE`,
      [workspaceId, userIds],
    );
    const presentIds = new Set(present.map((row) => row.user_id));
    const missing = userIds.filter((id) => !presentIds.has(id));
    await lockChannel(manager, channelId);
    const inserted: { user_id: string }[] = presentIds.size
      ? await manager.query(
          `INSERT INTO channel_members (channel_id, user_id, workspace_id)
           SELECT $1, u, $2 FROM unnest($3::uuid[]) AS u
           ON CONFLICT DO NOTHING RETURNING user_id`,
          [channelId, workspaceId, [...presentIds]],
        )
      : [];
    const added = inserted.map((row) => row.user_id);
    const events = added.length
      ? await this.messages.appendInTransaction(
          manager,
          channelId,
          added.map((userId) => ({ type: 'member.joined' as const, data: { userId } })),
        )
      : [];
    return { added, missing, events };
  }

  /** Public channels for non-guests plus every channel the caller is in, with unread counts in one query. */
  async list(callerId: string, workspaceId: string): Promise<ChannelListItem[]> {
    const role = await this.access.requireWorkspaceMember(workspaceId, callerId);
    const rows: (ChannelRow & { is_member: boolean; last_read_seq: string; unread_count: string; unheard_count: string; unheard_topics: { topicId: string; unheardCount: number }[] | null })[] =
      await this.dataSource.query(
        `SELECT c.id, c.workspace_id, c.name, c.kind, c.mode, c.head_seq, c.created_at,
                m.user_id IS NOT NULL AS is_member,
                COALESCE(m.last_read_seq, 0) AS last_read_seq,
                COALESCE(unread.count, 0) AS unread_count,
                COALESCE(unheard.count, 0) AS unheard_count,
                unheard.topics AS unheard_topics
           FROM channels c
           LEFT JOIN channel_members m ON m.channel_id = c.id AND m.user_id = $2
           LEFT JOIN LATERAL (
             SELECT count(*) AS count FROM messages x
              WHERE x.channel_id = c.id AND x.seq > m.last_read_seq
                AND x.author_id <> $2 AND x.deleted_at IS NULL
           ) unread ON m.user_id IS NOT NULL
           LEFT JOIN LATERAL (${unheardCountSql('$2')}) unheard ON m.user_id IS NOT NULL
          WHERE c.workspace_id = $1
            AND (m.user_id IS NOT NULL OR (c.kind = 'public' AND $3::boolean))
          ORDER BY c.kind = 'direct', c.name, c.created_at, c.id`,
        [workspaceId, callerId, role !== 'guest'],
      );
    return rows.map((row) => ({
      ...toChannelView(row),
      lastReadSeq: Number(row.last_read_seq),
      unreadCount: Number(row.unread_count),
      unheardCount: Number(row.unheard_count),
      unheardTopics: row.unheard_topics ?? [],
      isMember: row.is_member,
    }));
  }

  /** Joins a public channel; joining again changes nothing. */
  async join(callerId: string, workspaceId: string, channelId: string): Promise<ChannelView> {
    const access = await this.access.requireChannelVisible(channelId, callerId, workspaceId);
    if (access.kind !== 'public') throw AppException.notFound('Channel');
    const { added, events } = await this.dataSource.transaction(async (manager) => {
      const result = await this.addMembersInTransaction(manager, workspaceId, channelId, [callerId]);
      if (result.missing.length > 0) throw AppException.notFound('Channel');
      return result;
    });
    this.fanout.publishEvents(events);
    await this.announceJoins(workspaceId, channelId, added);
    return this.view(channelId);
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
    const { added, events } = await this.dataSource.transaction(async (manager) => {
      const result = await this.addMembersInTransaction(manager, workspaceId, channelId, [userId]);
      if (result.missing.length > 0) throw AppException.notFound('User');
      return result;
    });
    this.fanout.publishEvents(events);
    await this.announceJoins(workspaceId, channelId, added);
    return { channelId, userId };
  }

  /** Owners/admins remove anyone; anyone leaves. DM membership is fixed. */
  async removeMember(callerId: string, workspaceId: string, channelId: string, targetId: string): Promise<void> {
    const userId = targetId.toLowerCase();
    const access = await this.access.requireChannelVisible(channelId, callerId, workspaceId);
    if (userId !== callerId && !isAdminRole(access.role))
      throw AppException.forbidden('Only owners and admins may remove others');
    if (access.kind === 'direct') throw AppException.forbidden('Nobody leaves or is removed from a DM');
    const events = await this.dataSource.transaction(async (manager) => {
      await lockChannel(manager, channelId);
      // TypeORM answers a DELETE with [rows, affected].
      const [, deleted]: [unknown[], number] = await manager.query(
        'DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2 RETURNING user_id',
        [channelId, userId],
      );
      if (deleted === 0) throw AppException.notFound('Channel member');
      return this.messages.appendInTransaction(manager, channelId, [{ type: 'member.left', data: { userId } }]);
    });
    this.fanout.publishEvents(events);
    // PROTOCOL guarantee 6: the removal holds on every node before we answer.
    await this.membershipBus.changed({ workspaceId, channelId, userId, removed: true });
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
    const outcome = await this.dataSource.transaction(async (manager) => {
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
      const existing: ChannelRow[] = await manager.query(
        'SELECT * FROM channels WHERE workspace_id = $1 AND dm_key = $2',
        [workspaceId, dmKey],
      );
      // Someone who left the workspace and came back is put back into the DM.
      const result = await this.addMembersInTransaction(manager, workspaceId, existing[0].id, memberIds);
      if (result.missing.length > 0) throw AppException.notFound('User');
      return { ...result, channel: withHead(toChannelView(existing[0]), result.events), created: false };
    });
    this.fanout.publishEvents(outcome.events);
    await this.announceJoins(workspaceId, outcome.channel.id, outcome.added);
    return { channel: outcome.channel, created: outcome.created };
  }

  /** Lets every node's cache and socket rooms learn about new channel members. */
  async announceJoins(workspaceId: string, channelId: string, userIds: string[]): Promise<void> {
    await Promise.all(userIds.map((userId) => this.membershipBus.changed({ workspaceId, channelId, userId })));
  }

  private async view(channelId: string): Promise<ChannelView> {
    const rows: ChannelRow[] = await this.dataSource.query('SELECT * FROM channels WHERE id = $1', [channelId]);
    if (rows.length === 0) throw AppException.notFound('Channel');
    return toChannelView(rows[0]);
  }
}

/** Takes the channel row lock that serializes the channel's writers (see messages/channel-log.ts). */
async function lockChannel(manager: EntityManager, channelId: string): Promise<void> {
  const rows: unknown[] = await manager.query('SELECT 1 FROM channels WHERE id = $1 FOR UPDATE', [channelId]);
  if (rows.length === 0) throw AppException.notFound('Channel');
}

/** The head after this transaction's events, which the RETURNING row predates. */
function withHead(channel: ChannelView, events: EventEnvelope[]): ChannelView {
  return events.length ? { ...channel, headSeq: events[events.length - 1].seq } : channel;
}
