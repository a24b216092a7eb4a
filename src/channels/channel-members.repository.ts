import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { WorkspaceRole } from '../workspaces/workspace-member.entity';
import type { NotifyLevel } from './channel-member.entity';
import type { Channel } from './channel.entity';

/** Who is in a channel, as the access cache holds it. */
export interface ChannelMembership {
  workspaceId: string;
  kind: Channel['kind'];
  memberIds: string[];
}

/** A user's workspaces and channels as a new socket needs them: rooms to join, heads and read marks. */
export interface WorkspaceChannels {
  workspaceId: string;
  role: WorkspaceRole;
  channels: { id: string; headSeq: number; lastReadSeq: number }[];
}

/**
 * The channel_members table. Every method but the two keyed by channel or user alone names the
 * workspace too, so it cannot reach another tenant's rows.
 */
@Injectable()
export class ChannelMembersRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Adds the users to the channel, skipping those already in it; answers those added. */
  async insertMany(
    manager: EntityManager,
    workspaceId: string,
    channelId: string,
    userIds: string[],
  ): Promise<string[]> {
    if (userIds.length === 0) return [];
    const rows: { user_id: string }[] = await manager.query(
      `INSERT INTO channel_members (channel_id, user_id, workspace_id)
       SELECT c.id, u, c.workspace_id FROM channels c, unnest($3::uuid[]) AS u
        WHERE c.id = $1 AND c.workspace_id = $2
       ON CONFLICT DO NOTHING RETURNING user_id`,
      [channelId, workspaceId, userIds],
    );
    return rows.map((row) => row.user_id);
  }

  /** False when the user was not in the channel. */
  async delete(manager: EntityManager, workspaceId: string, channelId: string, userId: string): Promise<boolean> {
    // TypeORM answers a DELETE with [rows, affected].
    const [, deleted]: [unknown[], number] = await manager.query(
      'DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2 AND workspace_id = $3 RETURNING user_id',
      [channelId, userId, workspaceId],
    );
    return deleted > 0;
  }

  /** Takes the user out of every channel of the workspace. */
  async deleteFromWorkspace(manager: EntityManager, workspaceId: string, userId: string): Promise<void> {
    await manager.query('DELETE FROM channel_members WHERE workspace_id = $1 AND user_id = $2', [workspaceId, userId]);
  }

  /**
   * A channel's workspace, kind and members in one query, for the per-node access cache (keyed by
   * channel id alone; the cache compares the workspace itself). Null for an unknown channel.
   */
  async membership(channelId: string): Promise<ChannelMembership | null> {
    const rows: { workspace_id: string; kind: Channel['kind']; user_id: string | null }[] = await this.dataSource.query(
      `SELECT c.workspace_id, c.kind, m.user_id
         FROM channels c LEFT JOIN channel_members m ON m.channel_id = c.id
        WHERE c.id = $1`,
      [channelId],
    );
    if (rows.length === 0) return null;
    return {
      workspaceId: rows[0].workspace_id,
      kind: rows[0].kind,
      memberIds: rows.map((row) => row.user_id).filter((id): id is string => id !== null),
    };
  }

  /** The channels of the workspace the user is in. */
  async channelIdsOf(workspaceId: string, userId: string): Promise<string[]> {
    const rows: { channel_id: string }[] = await this.dataSource.query(
      'SELECT channel_id FROM channel_members WHERE user_id = $1 AND workspace_id = $2',
      [userId, workspaceId],
    );
    return rows.map((row) => row.channel_id);
  }

  /**
   * Every workspace of the user (oldest membership first) with the channels they are in, in one
   * query: what a socket joins when it connects.
   */
  async workspaceChannels(userId: string): Promise<WorkspaceChannels[]> {
    const rows: {
      workspace_id: string;
      role: WorkspaceRole;
      channel_id: string | null;
      head_seq: string | null;
      last_read_seq: string | null;
    }[] = await this.dataSource.query(
      `SELECT wm.workspace_id, wm.role, c.id AS channel_id, c.head_seq, cm.last_read_seq
         FROM workspace_members wm
         LEFT JOIN channel_members cm ON cm.user_id = wm.user_id AND cm.workspace_id = wm.workspace_id
         LEFT JOIN channels c ON c.id = cm.channel_id
        WHERE wm.user_id = $1
        ORDER BY wm.joined_at, c.created_at`,
      [userId],
    );
    const workspaces = new Map<string, WorkspaceChannels>();
    for (const row of rows) {
      let workspace = workspaces.get(row.workspace_id);
      if (!workspace) {
        workspace = { workspaceId: row.workspace_id, role: row.role, channels: [] };
        workspaces.set(row.workspace_id, workspace);
      }
      if (row.channel_id) {
        workspace.channels.push({
          id: row.channel_id,
          headSeq: Number(row.head_seq),
          lastReadSeq: Number(row.last_read_seq),
        });
      }
    }
    return [...workspaces.values()];
  }

  /**
   * Moves the read mark forward, never back and never past the channel head; the mark after the
   * change, or null when the user is not in the channel.
   */
  async markRead(workspaceId: string, channelId: string, userId: string, seq: number): Promise<number | null> {
    const [rows]: [{ last_read_seq: string }[], number] = await this.dataSource.query(
      `UPDATE channel_members cm
          SET last_read_seq = GREATEST(cm.last_read_seq, LEAST($3::bigint, c.head_seq))
         FROM channels c
        WHERE cm.channel_id = $1 AND cm.user_id = $2 AND cm.workspace_id = $4 AND c.id = cm.channel_id
        RETURNING cm.last_read_seq`,
      [channelId, userId, seq, workspaceId],
    );
    return rows.length ? Number(rows[0].last_read_seq) : null;
  }

  /** False when the user is not in the channel. */
  async setNotifyLevel(workspaceId: string, channelId: string, userId: string, level: NotifyLevel): Promise<boolean> {
    const [, updated]: [unknown[], number] = await this.dataSource.query(
      'UPDATE channel_members SET notify_level = $4 WHERE channel_id = $1 AND user_id = $2 AND workspace_id = $3',
      [channelId, userId, workspaceId, level],
    );
    return updated > 0;
  }
}
