import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { NotificationsModule } from '../notifications/notifications.module';
import { QUEUES } from '../queues/queues';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { OutboxRelay } from './outbox.relay';
import { OutboxRepository } from './outbox.repository';
import { OutboxService } from './outbox.service';
import { OutboxSweeper } from './outbox.sweeper';
import { VoiceJobDispatcher } from './voice-job.dispatcher';

/** The transactional outbox: its table, the relay to BullMQ and the sweeper; API and worker. */
@Module({
  imports: [WebhooksModule, NotificationsModule, BullModule.registerQueue({ name: QUEUES.voice })],
  providers: [OutboxRepository, OutboxRelay, OutboxSweeper, OutboxService, VoiceJobDispatcher],
  exports: [OutboxService, OutboxRelay],
})
export class OutboxModule {}
