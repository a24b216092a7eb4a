import { Module } from '@nestjs/common';
import { MessagesModule } from '../messages/messages.module';
import { ChannelsController } from './channels.controller';
import { ChannelsService } from './channels.service';
import { TopicsController } from './topics.controller';
import { TopicsService } from './topics.service';

/** Channels, DMs, channel membership and topics. Workspaces use ChannelsService for `general`. */
@Module({
  imports: [MessagesModule],
  controllers: [ChannelsController, TopicsController],
  providers: [ChannelsService, TopicsService],
  exports: [ChannelsService],
})
export class ChannelsModule {}
