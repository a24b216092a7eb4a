import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { QUEUES } from '../queues/queues';
import { NotificationSettingsController } from './notification-settings.controller';
import { NotificationSettingsService } from './notification-settings.service';
import { PushDispatcher } from './push-dispatcher.service';
import { PushSubscriptionsController } from './push-subscriptions.controller';
import { PushSubscriptionsService } from './push-subscriptions.service';
import { VapidKeysService } from './vapid-keys.service';

/** Push subscriptions and notification levels (REST), and enqueueing pushes for new messages; API and worker. */
@Module({
  imports: [BullModule.registerQueue({ name: QUEUES.push })],
  controllers: [PushSubscriptionsController, NotificationSettingsController],
  providers: [VapidKeysService, PushSubscriptionsService, NotificationSettingsService, PushDispatcher],
  exports: [VapidKeysService],
})
export class NotificationsModule {}
