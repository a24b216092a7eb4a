import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AccessModule } from './access/access.module';
import { loggerParams } from './common/logging';
import { AppConfigModule } from './config/config.module';
import { AppConfigService } from './config/app-config.service';
import { DatabaseModule } from './database/database.module';
import { FanoutModule } from './fanout/fanout.module';
import { MessagesModule } from './messages/messages.module';
import { MetricsModule } from './metrics/metrics.module';
import { NotificationsWorkerModule } from './notifications/notifications-worker.module';
import { QUEUES } from './queues/queues';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { RedisModule } from './redis/redis.module';
import { VoiceWorkerModule } from './voice/voice-worker.module';
import { WebhooksWorkerModule } from './webhooks/webhooks-worker.module';

/** The worker process: the same feature modules as the API, plus the queue processors. */
@Module({
  imports: [
    AppConfigModule,
    LoggerModule.forRoot(loggerParams(process.env.LOG_LEVEL ?? 'info')),
    DatabaseModule,
    RedisModule,
    AccessModule,
    FanoutModule,
    RateLimitModule,
    MetricsModule,
    MessagesModule,
    BullModule.forRootAsync({
      inject: [AppConfigService],
      useFactory: (config: AppConfigService) => ({
        connection: { url: config.get('REDIS_URL'), maxRetriesPerRequest: null },
      }),
    }),
    BullModule.registerQueue(...Object.values(QUEUES).map((name) => ({ name }))),
    WebhooksWorkerModule,
    VoiceWorkerModule,
    NotificationsWorkerModule,
  ],
})
export class WorkerModule {}
