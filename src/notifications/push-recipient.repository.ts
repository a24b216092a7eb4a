import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { ChannelKind } from '../channels/channel.entity';
import type { NotifyLevel } from '../channels/channel-member.entity';

/** What a notification says about its message (a read model over messages, channels, users, voice_clips). */
export interface PushMessageContext {
  kind: string;
  body: string;
  author_id: string;
  deleted_at: Date | null;
  channel_kind: ChannelKind;
  channel_name: string | null;
  author_name: string;
  duration_ms: number | null;
}

/** Who a new message may notify, and the notification levels members set (channel_members.notify_level). */
@Injectable()
export class PushRecipientRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async message(messageId: string): Promise<PushMessageContext | undefined> {
    const rows: PushMessageContext[] = await this.dataSource.query(
      `SELECT m.kind, m.body, m.author_id, m.deleted_at, c.kind AS channel_kind, c.name AS channel_name,
              u.display_name AS author_name, v.duration_ms
         FROM messages m JOIN channels c ON c.id = m.channel_id JOIN users u ON u.id = m.author_id
         LEFT JOIN voice_clips v ON v.message_id = m.id
        WHERE m.id = $1`,
      [messageId],
    );
    return rows[0];
  }

  /**
   * Members but the author whose level admits the message and who have a subscription. The level
   * filter runs in SQL, so a big channel at the default level yields only the mentioned.
   */
  async candidates(channelId: string, authorId: string, channelKind: ChannelKind, mentioned: string[]): Promise<string[]> {
    const rows: { user_id: string }[] = await this.dataSource.query(
      `SELECT m.user_id FROM channel_members m
        WHERE m.channel_id = $1 AND m.user_id <> $2
          AND COALESCE(m.notify_level, CASE WHEN $3 = 'direct' THEN 'all' ELSE 'mentions' END) <> 'none'
          AND (COALESCE(m.notify_level, CASE WHEN $3 = 'direct' THEN 'all' ELSE 'mentions' END) = 'all'
               OR $3 = 'direct' OR m.user_id = ANY($4::uuid[]))
          AND EXISTS (SELECT 1 FROM push_subscriptions s WHERE s.user_id = m.user_id)`,
      [channelId, authorId, channelKind, mentioned],
    );
    return rows.map((r) => r.user_id);
  }

  /** Display names of those of `userIds` who belong to the workspace. */
  async namesInWorkspace(userIds: string[], workspaceId: string): Promise<Map<string, string>> {
    const rows: { id: string; display_name: string }[] = await this.dataSource.query(
      `SELECT u.id, u.display_name FROM users u
         JOIN workspace_members w ON w.user_id = u.id AND w.workspace_id = $2
        WHERE u.id = ANY($1::uuid[])`,
      [userIds, workspaceId],
    );
    return new Map(rows.map((r) => [r.id, r.display_name]));
  }

  async setLevel(channelId: string, userId: string, level: NotifyLevel): Promise<void> {
    await this.dataSource.query('UPDATE channel_members SET notify_level = $3 WHERE channel_id = $1 AND user_id = $2', [
      channelId,
      userId,
      level,
    ]);
  }
}
