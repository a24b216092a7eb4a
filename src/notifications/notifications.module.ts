import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { QUEUES } from '../queues/queues';
import { NotificationSettingsController } from './notification-settings.controller';
import { NotificationSettingsService } from './notification-settings.service';
import { PushDispatcher } from './push-dispatcher.service';
import { PushRecipientRepository } from './push-recipient.repository';
import { PushSubscriptionRepository } from './push-subscription.repository';
import { PushSubscriptionsController } from './push-subscriptions.controller';
import { PushSubscriptionsService } from './push-subscriptions.service';
import { VapidKeysService } from './vapid-keys.service';

/** Push subscriptions and notification levels (REST), and push jobs for new messages (for the outbox relay); API and worker. */
@Module({
  imports: [BullModule.registerQueue({ name: QUEUES.push })],
  controllers: [PushSubscriptionsController, NotificationSettingsController],
  providers: [PushSubscriptionRepository, PushRecipientRepository, VapidKeysService, PushSubscriptionsService, NotificationSettingsService, PushDispatcher],
  exports: [VapidKeysService, PushDispatcher, PushSubscriptionRepository, PushRecipientRepository],
})
export class NotificationsModule {}
