import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { entityRows, RowMapper } from '../database/entity-rows';
import { Topic } from './topic.entity';

export type NewTopicRow = Pick<Topic, 'workspaceId' | 'channelId' | 'title' | 'createdBy'>;

/** The topics table, always read and written with the workspace beside the channel. */
@Injectable()
export class TopicsRepository {
  private readonly toTopic: RowMapper<Topic>;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.toTopic = entityRows(dataSource, Topic);
  }

  /** Null when the channel is not in the workspace. */
  async insert(manager: EntityManager, topic: NewTopicRow): Promise<Topic | null> {
    const rows: Record<string, unknown>[] = await manager.query(
      `INSERT INTO topics (workspace_id, channel_id, title, created_by)
       SELECT c.workspace_id, c.id, $3, $4 FROM channels c WHERE c.id = $2 AND c.workspace_id = $1
       RETURNING *`,
      [topic.workspaceId, topic.channelId, topic.title, topic.createdBy],
    );
    return rows.length ? this.toTopic(rows[0]) : null;
  }

  /** Latest activity (creation or newest message) first. */
  async listForChannel(workspaceId: string, channelId: string): Promise<Topic[]> {
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT * FROM topics WHERE channel_id = $1 AND workspace_id = $2
        ORDER BY last_activity_at DESC, created_at DESC, id`,
      [channelId, workspaceId],
    );
    return rows.map(this.toTopic);
  }
}
