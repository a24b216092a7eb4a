import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';

/**
 * The channel_members table, as channel and workspace membership changes write it. Every method
 * names the workspace too, so it cannot reach another tenant's rows.
 */
@Injectable()
export class ChannelMembersRepository {
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
}
