import { Module } from '@nestjs/common';
import { WebhookDeliveryService } from './webhook-delivery.service';
import { WebhooksModule } from './webhooks.module';
import { WebhooksProcessor } from './webhooks.processor';

/** The worker's half: the `webhooks` queue processor that sends deliveries. */
@Module({
  imports: [WebhooksModule],
  providers: [WebhookDeliveryService, WebhooksProcessor],
})
export class WebhooksWorkerModule {}
