import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { entityRows, RowMapper } from '../database/entity-rows';
import { unheardCountSql } from '../listening/unheard.sql';
import { Channel } from './channel.entity';

export type NewChannelRow = Pick<Channel, 'workspaceId' | 'name' | 'kind' | 'createdBy'> & { dmKey: string | null };

/** A row of the channel list: the channel and the caller's read state in it. */
export interface ChannelListRow {
  channel: Channel;
  isMember: boolean;
  lastReadSeq: number;
  unreadCount: number;
  /** Voice messages of others the caller has not finished (src/listening), in all and per topic. */
  unheardCount: number;
  unheardTopics: { topicId: string; unheardCount: number }[];
}

/**
 * The channels table. Every lookup is by workspace and id together, so another workspace's channel
 * id finds nothing (NOT_FOUND upstream). Queries select `*` and hydrate the entity, so a new column
 * reaches the view without touching them.
 */
@Injectable()
export class ChannelsRepository {
  private readonly toChannel: RowMapper<Channel>;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.toChannel = entityRows(dataSource, Channel);
  }

  /** The new channel, or null when its name (or DM key) is taken in the workspace. */
  async insertIfAbsent(manager: EntityManager, channel: NewChannelRow): Promise<Channel | null> {
    const rows: Record<string, unknown>[] = await manager.query(
      `INSERT INTO channels (workspace_id, name, kind, dm_key, created_by) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING RETURNING *`,
      [channel.workspaceId, channel.name, channel.kind, channel.dmKey, channel.createdBy],
    );
    return rows.length ? this.toChannel(rows[0]) : null;
  }

  async find(
    workspaceId: string,
    channelId: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<Channel | null> {
    const rows: Record<string, unknown>[] = await manager.query(
      'SELECT * FROM channels WHERE id = $1 AND workspace_id = $2',
      [channelId, workspaceId],
    );
    return rows.length ? this.toChannel(rows[0]) : null;
  }

  async findByName(manager: EntityManager, workspaceId: string, name: string): Promise<Channel | null> {
    const rows: Record<string, unknown>[] = await manager.query(
      'SELECT * FROM channels WHERE workspace_id = $1 AND name = $2',
      [workspaceId, name],
    );
    return rows.length ? this.toChannel(rows[0]) : null;
  }

  async findDirect(manager: EntityManager, workspaceId: string, dmKey: string): Promise<Channel | null> {
    const rows: Record<string, unknown>[] = await manager.query(
      'SELECT * FROM channels WHERE workspace_id = $1 AND dm_key = $2',
      [workspaceId, dmKey],
    );
    return rows.length ? this.toChannel(rows[0]) : null;
  }

  /**
   * Takes the channel row lock that serializes the channel's writers (see messages/channel-log.ts);
   * false when the workspace has no such channel.
   */
  async lock(manager: EntityManager, workspaceId: string, channelId: string): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      'SELECT 1 FROM channels WHERE id = $1 AND workspace_id = $2 FOR UPDATE',
      [channelId, workspaceId],
    );
    return rows.length > 0;
  }

  /** Locks, in id order (the deadlock-free order), every channel of the workspace the user is in. */
  async lockMemberChannels(manager: EntityManager, workspaceId: string, userId: string): Promise<string[]> {
    const rows: { id: string }[] = await manager.query(
      `SELECT c.id FROM channels c JOIN channel_members m ON m.channel_id = c.id
        WHERE m.workspace_id = $1 AND m.user_id = $2 AND c.workspace_id = $1
        ORDER BY c.id FOR UPDATE OF c`,
      [workspaceId, userId],
    );
    return rows.map((row) => row.id);
  }

  /**
   * The channels the user is in plus, when `withPublic`, every public channel of the workspace,
   * with read marks and unread counts in one query; DMs last.
   */
  async listVisible(workspaceId: string, userId: string, withPublic: boolean): Promise<ChannelListRow[]> {
    const rows: (Record<string, unknown> & {
      is_member: boolean;
      last_read_seq: string;
      unread_count: string;
      unheard_count: string;
      unheard_topics: { topicId: string; unheardCount: number }[] | null;
    })[] =
      await this.dataSource.query(
        `SELECT c.*,
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
        [workspaceId, userId, withPublic],
      );
    return rows.map((row) => ({
      channel: this.toChannel(row),
      isMember: row.is_member,
      lastReadSeq: Number(row.last_read_seq),
      unreadCount: Number(row.unread_count),
      unheardCount: Number(row.unheard_count),
      unheardTopics: row.unheard_topics ?? [],
    }));
  }
}
