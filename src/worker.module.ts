import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { INFRASTRUCTURE_MODULES } from './infrastructure.modules';
import { AppConfigService } from './config/app-config.service';
import { MessagesModule } from './messages/messages.module';
import { WorkerMetricsModule } from './metrics/worker-metrics.module';
import { NotificationsWorkerModule } from './notifications/notifications-worker.module';
import { OutboxModule } from './outbox/outbox.module';
import { QUEUES } from './queues/queues';
import { VoiceWorkerModule } from './voice/voice-worker.module';
import { WebhooksWorkerModule } from './webhooks/webhooks-worker.module';

/** The worker process: the same feature modules as the API, plus the queue processors. */
@Module({
  imports: [
    ...INFRASTRUCTURE_MODULES,
    MessagesModule,
    BullModule.forRootAsync({
      inject: [AppConfigService],
      useFactory: (config: AppConfigService) => ({
        connection: { url: config.get('REDIS_URL'), maxRetriesPerRequest: null },
        // BullMQ keys live under REDIS_PREFIX: another deployment's worker never takes these jobs.
        prefix: `${config.get('REDIS_PREFIX')}:bull`,
      }),
    }),
    BullModule.registerQueue(...Object.values(QUEUES).map((name) => ({ name }))),
    WebhooksWorkerModule,
    VoiceWorkerModule,
    NotificationsWorkerModule,
    OutboxModule,
    WorkerMetricsModule,
  ],
})
export class WorkerModule {}
