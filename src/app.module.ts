import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AccessModule } from './access/access.module';
import { AuthModule } from './auth/auth.module';
import { ChannelsModule } from './channels/channels.module';
import { loggerParams } from './common/logging';
import { AppConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { FanoutModule } from './fanout/fanout.module';
import { HealthModule } from './health/health.module';
import { MessagesModule } from './messages/messages.module';
import { MetricsModule } from './metrics/metrics.module';
import { NotificationsModule } from './notifications/notifications.module';
import { PresenceModule } from './presence/presence.module';
import { QueueConnectionModule } from './queues/queue-connection.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { RealtimeModule } from './realtime/realtime.module';
import { RedisModule } from './redis/redis.module';
import { VoiceModule } from './voice/voice.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { WorkspacesModule } from './workspaces/workspaces.module';

/** The API process: REST, Socket.IO, health and metrics. */
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
    PresenceModule,
    AuthModule,
    WorkspacesModule,
    ChannelsModule,
    MessagesModule,
    RealtimeModule,
    HealthModule,
    QueueConnectionModule,
    WebhooksModule,
    VoiceModule,
    NotificationsModule,
  ],
})
export class AppModule {}
