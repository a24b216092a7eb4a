import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { Channel } from './channel.entity';

/** Who is in a channel, as the access cache holds it. */
export interface ChannelMembership {
  workspaceId: string;
  kind: Channel['kind'];
  memberIds: string[];
}

/** The channel_members table. Writes name the workspace too, so they cannot reach another tenant's rows. */
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
}
