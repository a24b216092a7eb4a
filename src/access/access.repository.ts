import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { ChannelKind } from '../channels/channel.entity';
import type { WorkspaceRole } from '../workspaces/workspace-member.entity';

/** What the access cache loads: a member's workspace role, a channel with its member set. */
@Injectable()
export class AccessRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async workspaceRole(workspaceId: string, userId: string): Promise<WorkspaceRole | null> {
    const rows: { role: WorkspaceRole }[] = await this.dataSource.query(
      'SELECT role FROM workspace_members WHERE workspace_id = $1 AND user_id = $2',
      [workspaceId, userId],
    );
    return rows[0]?.role ?? null;
  }

  /** Null for an unknown channel. */
  async channelWithMembers(channelId: string): Promise<{ workspaceId: string; kind: ChannelKind; memberIds: string[] } | null> {
    const rows: { workspace_id: string; kind: ChannelKind; user_id: string | null }[] = await this.dataSource.query(
      `SELECT c.workspace_id, c.kind, m.user_id
         FROM channels c LEFT JOIN channel_members m ON m.channel_id = c.id
        WHERE c.id = $1`,
      [channelId],
    );
    if (rows.length === 0) return null;
    return {
      workspaceId: rows[0].workspace_id,
      kind: rows[0].kind,
      memberIds: rows.map((r) => r.user_id).filter((id): id is string => id !== null),
    };
  }
}
