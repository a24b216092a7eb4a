import { Module } from '@nestjs/common';
import { PresenceModule } from '../presence/presence.module';
import { NotificationsModule } from './notifications.module';
import { PushSenderService } from './push-sender.service';
import { PushProcessor } from './push.processor';

/** The worker's half: the `push` queue processor. Presence tells it who has a live socket. */
@Module({
  imports: [NotificationsModule, PresenceModule],
  providers: [PushSenderService, PushProcessor],
})
export class NotificationsWorkerModule {}
