import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { QUEUES } from '../queues/queues';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { WebhookDispatcher } from './webhook-dispatcher.service';
import { WebhookRepository } from './webhook.repository';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/** Webhook registration (REST) and dispatch of committed channel events (for the outbox relay); API and worker. */
@Module({
  imports: [BullModule.registerQueue({ name: QUEUES.webhooks })],
  controllers: [WebhooksController],
  providers: [WebhookRepository, WebhookDeliveryRepository, WebhooksService, WebhookDispatcher],
  exports: [WebhookDispatcher, WebhookDeliveryRepository],
})
export class WebhooksModule {}
