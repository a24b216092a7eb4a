import { Module } from '@nestjs/common';
import { ChannelMembersRepository } from './channel-members.repository';
import { ChannelsRepository } from './channels.repository';
import { TopicsRepository } from './topics.repository';

/**
 * The channels feature's repositories. They need nothing but the data source, so any module
 * (workspaces, the access cache) imports them without an import cycle through the services.
 */
@Module({
  providers: [ChannelsRepository, ChannelMembersRepository, TopicsRepository],
  exports: [ChannelsRepository, ChannelMembersRepository, TopicsRepository],
})
export class ChannelsDataModule {}
