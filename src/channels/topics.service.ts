import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AccessService } from '../access/access.service';
import { ChannelLog } from '../messages/channel-log';
import { toTopicView, TopicRow, TopicView } from './channel.view';

/** Topics are threads of a channel; only its members see or start them. */
@Injectable()
export class TopicsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly access: AccessService,
    private readonly log: ChannelLog,
  ) {}

  async create(callerId: string, workspaceId: string, channelId: string, title: string): Promise<TopicView> {
    await this.access.requireChannelMember(channelId, callerId, workspaceId);
    const { topic } = await this.log.transaction(async (manager) => {
      // The channel lock comes before the insert, whose foreign key check would otherwise
      // share-lock the channel row and deadlock against a concurrent writer.
      await manager.query('SELECT 1 FROM channels WHERE id = $1 FOR UPDATE', [channelId]);
      const rows: TopicRow[] = await manager.query(
        `INSERT INTO topics (workspace_id, channel_id, title, created_by) VALUES ($1, $2, $3, $4) RETURNING *`,
        [workspaceId, channelId, title, callerId],
      );
      const created = toTopicView(rows[0]);
      const appended = await this.log.append(manager, channelId, [
        { type: 'topic.created', data: created },
      ]);
      return { topic: created, events: appended };
    });
    return topic;
  }

  /** Latest activity (creation or newest message) first. */
  async list(callerId: string, workspaceId: string, channelId: string): Promise<TopicView[]> {
    await this.access.requireChannelMember(channelId, callerId, workspaceId);
    const rows: TopicRow[] = await this.dataSource.query(
      `SELECT * FROM topics WHERE channel_id = $1 AND workspace_id = $2
        ORDER BY last_activity_at DESC, created_at DESC, id`,
      [channelId, workspaceId],
    );
    return rows.map(toTopicView);
  }
}
