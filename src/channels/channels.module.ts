import { Module } from '@nestjs/common';
import { MessagesModule } from '../messages/messages.module';
import { WorkspacesDataModule } from '../workspaces/workspaces-data.module';
import { ChannelMembersService } from './channel-members.service';
import { ChannelsDataModule } from './channels-data.module';
import { ChannelsController } from './channels.controller';
import { ChannelsService } from './channels.service';
import { TopicsController } from './topics.controller';
import { TopicsService } from './topics.service';

/** Channels, DMs, channel membership and topics. Workspaces use them for `general` and invites. */
@Module({
  imports: [MessagesModule, ChannelsDataModule, WorkspacesDataModule],
  controllers: [ChannelsController, TopicsController],
  providers: [ChannelsService, ChannelMembersService, TopicsService],
  exports: [ChannelsService, ChannelMembersService, ChannelsDataModule],
})
export class ChannelsModule {}
