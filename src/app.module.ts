import { Module } from '@nestjs/common';
import { INFRASTRUCTURE_MODULES } from './infrastructure.modules';
import { AuthModule } from './auth/auth.module';
import { ChannelsModule } from './channels/channels.module';
import { HealthModule } from './health/health.module';
import { HuddlesModule } from './huddles/huddles.module';
import { MessagesModule } from './messages/messages.module';
import { NotificationsModule } from './notifications/notifications.module';
import { OutboxModule } from './outbox/outbox.module';
import { PresenceModule } from './presence/presence.module';
import { QueueConnectionModule } from './queues/queue-connection.module';
import { RealtimeModule } from './realtime/realtime.module';
import { SearchModule } from './search/search.module';
import { TenancyModule } from './tenancy/tenancy.module';
import { VoiceModule } from './voice/voice.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { WorkspacesModule } from './workspaces/workspaces.module';

/** The API process: REST, Socket.IO, health and metrics. */
@Module({
  imports: [
    ...INFRASTRUCTURE_MODULES,
    TenancyModule,
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
    OutboxModule,
    SearchModule,
    HuddlesModule,
  ],
})
export class AppModule {}
