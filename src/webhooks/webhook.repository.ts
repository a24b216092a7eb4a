import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** One row of `webhooks`. */
export interface WebhookRow {
  id: string;
  workspace_id: string;
  url: string;
  events: string[];
  secret: string;
  created_by: string;
  created_at: Date;
}

/** The `webhooks` table. */
@Injectable()
export class WebhookRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async create(input: Pick<WebhookRow, 'workspace_id' | 'url' | 'events' | 'secret' | 'created_by'>): Promise<Pick<WebhookRow, 'id' | 'created_at'>> {
    const rows: Pick<WebhookRow, 'id' | 'created_at'>[] = await this.dataSource.query(
      `INSERT INTO webhooks (workspace_id, url, events, secret, created_by) VALUES ($1, $2, $3::text[], $4, $5)
       RETURNING id, created_at`,
      [input.workspace_id, input.url, input.events, input.secret, input.created_by],
    );
    return rows[0];
  }

  async exists(webhookId: string, workspaceId: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query('SELECT 1 FROM webhooks WHERE id = $1 AND workspace_id = $2', [
      webhookId,
      workspaceId,
    ]);
    return rows.length > 0;
  }

  /** What dispatch needs of these workspaces' webhooks. */
  forWorkspaces(workspaceIds: string[]): Promise<Pick<WebhookRow, 'id' | 'workspace_id' | 'events' | 'created_by'>[]> {
    return this.dataSource.query('SELECT id, workspace_id, events, created_by FROM webhooks WHERE workspace_id = ANY($1::uuid[])', [
      workspaceIds,
    ]);
  }
}
