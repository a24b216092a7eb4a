import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { QUEUES } from '../queues/queues';
import { WebhookDispatcher } from './webhook-dispatcher.service';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/** Webhook registration (REST) and dispatch of committed channel events; imported by the API and the worker. */
@Module({
  imports: [BullModule.registerQueue({ name: QUEUES.webhooks })],
  controllers: [WebhooksController],
  providers: [WebhooksService, WebhookDispatcher],
  // ListeningModule dispatches `voice.listened`.
  exports: [WebhookDispatcher],
})
export class WebhooksModule {}
