import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AccessService } from '../access/access.service';
import { AppException } from '../common/app.exception';
import { AppConfigService } from '../config/app-config.service';
import type { CreateWebhookDto, WebhookDeliveryDto, WebhookDto } from './dto/webhook.dto';
import { targetProblem } from './public-target';
import { WebhookDispatcher } from './webhook-dispatcher.service';
import type { DeliveryAttempt, DeliveryStatus } from './webhook-delivery.entity';

/** Webhook registration and the delivery log (REST side). */
@Injectable()
export class WebhooksService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly access: AccessService,
    private readonly config: AppConfigService,
    private readonly dispatcher: WebhookDispatcher,
  ) {}

  async create(userId: string, workspaceId: string, dto: CreateWebhookDto): Promise<WebhookDto> {
    await this.access.requireWorkspaceAdmin(workspaceId, userId);
    const problem = await targetProblem(dto.url, this.config.get('ALLOW_PRIVATE_TARGETS'));
    if (problem) throw AppException.validation(problem, [{ field: 'url', message: problem }]);
    const secret = randomBytes(32).toString('hex');
    const rows: { id: string; created_at: Date }[] = await this.dataSource.query(
      `INSERT INTO webhooks (workspace_id, url, events, secret, created_by) VALUES ($1, $2, $3::text[], $4, $5)
       RETURNING id, created_at`,
      [workspaceId, dto.url, dto.events, secret, userId],
    );
    this.dispatcher.forget(workspaceId);
    return { id: rows[0].id, secret, url: dto.url, events: dto.events, createdAt: rows[0].created_at.toISOString() };
  }

  async deliveries(userId: string, workspaceId: string, webhookId: string): Promise<WebhookDeliveryDto[]> {
    await this.access.requireWorkspaceAdmin(workspaceId, userId);
    const found = await this.dataSource.query('SELECT 1 FROM webhooks WHERE id = $1 AND workspace_id = $2', [
      webhookId,
      workspaceId,
    ]);
    if (found.length === 0) throw AppException.notFound('Webhook');
    const rows: {
      id: string;
      event_type: string;
      status: DeliveryStatus;
      attempts: DeliveryAttempt[];
      created_at: Date;
      updated_at: Date;
    }[] = await this.dataSource.query(
      // Events of one commit share a timestamp; their seq keeps the newest-first order exact.
      `SELECT id, event_type, status, attempts, created_at, updated_at FROM webhook_deliveries
        WHERE webhook_id = $1 ORDER BY created_at DESC, (payload->>'seq')::bigint DESC LIMIT 200`,
      [webhookId],
    );
    return rows.map((r) => ({
      id: r.id,
      eventType: r.event_type,
      status: r.status,
      attempts: r.attempts,
      createdAt: r.created_at.toISOString(),
      updatedAt: r.updated_at.toISOString(),
    }));
  }
}
