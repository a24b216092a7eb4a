import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { ChannelMode } from '../channels/channel.entity';
import { unheardCountSql } from '../listening/unheard.sql';

/** A member's workspace with, per row, one of their channels (null when they are in none). */
export interface MembershipRow {
  workspace_id: string;
  role: string;
  channel_id: string | null;
  head_seq: string | null;
  last_read_seq: string | null;
  mode: ChannelMode | null;
  unheard_count: string | null;
  unheard_topics: { topicId: string; unheardCount: number }[] | null;
}

/** What the socket layer reads: a connection's workspaces and channels, the rooms a change touches. */
@Injectable()
export class RealtimeRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Every workspace of the user and their channels in it, oldest first. */
  memberships(userId: string): Promise<MembershipRow[]> {
    return this.dataSource.query(
      `SELECT wm.workspace_id, wm.role, c.id AS channel_id, c.head_seq, cm.last_read_seq, c.mode,
              unheard.count AS unheard_count, unheard.topics AS unheard_topics
         FROM workspace_members wm
         LEFT JOIN channel_members cm ON cm.user_id = wm.user_id AND cm.workspace_id = wm.workspace_id
         LEFT JOIN channels c ON c.id = cm.channel_id
         LEFT JOIN LATERAL (${unheardCountSql('$1')}) unheard ON c.id IS NOT NULL
        WHERE wm.user_id = $1
        ORDER BY wm.joined_at, c.created_at`,
      [userId],
    );
  }

  async workspaceChannelIds(workspaceId: string): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query('SELECT id FROM channels WHERE workspace_id = $1', [workspaceId]);
    return rows.map((r) => r.id);
  }

  async memberChannelIds(userId: string, workspaceId: string): Promise<string[]> {
    const rows: { channel_id: string }[] = await this.dataSource.query(
      'SELECT channel_id FROM channel_members WHERE user_id = $1 AND workspace_id = $2',
      [userId, workspaceId],
    );
    return rows.map((r) => r.channel_id);
  }
}
