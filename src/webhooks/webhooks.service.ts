import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AccessService } from '../access/access.service';
import { AppException } from '../common/app.exception';
import { AppConfigService } from '../config/app-config.service';
import type { CreateWebhookDto, WebhookDeliveryDto, WebhookDto } from './dto/webhook.dto';
import { targetProblem } from './public-target';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { WebhookRepository } from './webhook.repository';

/** Webhook registration and the delivery log (REST side). */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly deliveryLog: WebhookDeliveryRepository,
    private readonly access: AccessService,
    private readonly config: AppConfigService,
  ) {}

  async create(userId: string, workspaceId: string, dto: CreateWebhookDto): Promise<WebhookDto> {
    await this.access.requireWorkspaceAdmin(workspaceId, userId);
    const problem = await targetProblem(dto.url, this.config.get('ALLOW_PRIVATE_TARGETS'));
    if (problem) throw AppException.validation(problem, [{ field: 'url', message: problem }]);
    const secret = randomBytes(32).toString('hex');
    const row = await this.webhooks.create({ workspace_id: workspaceId, url: dto.url, events: dto.events, secret, created_by: userId });
    return { id: row.id, secret, url: dto.url, events: dto.events, createdAt: row.created_at.toISOString() };
  }

  async deliveries(userId: string, workspaceId: string, webhookId: string): Promise<WebhookDeliveryDto[]> {
    await this.access.requireWorkspaceAdmin(workspaceId, userId);
    if (!(await this.webhooks.exists(webhookId, workspaceId))) throw AppException.notFound('Webhook');
    const rows = await this.deliveryLog.latest(webhookId);
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
