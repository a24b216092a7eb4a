import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ChannelEventRepository } from './channel-event.repository';
import { ChannelLog } from './channel-log';
import { ChannelLogRepository } from './channel-log.repository';
import { MessageCommands } from './message-commands.service';
import { MessageQueries } from './message-queries.service';
import { MessageRepository } from './message.repository';
import { MessageViews } from './message-views';
import { MessagesController } from './messages.controller';
import { MessagesService } from './messages.service';
import { ReactionRepository } from './reaction.repository';
import { ReadMarkRepository } from './read-mark.repository';
import { ReadMarks } from './read-marks.service';
import { MessageWriter } from './send/message-writer';
import { SendPipeline } from './send/send-pipeline';

/**
 * Messages and the channel log. ChannelLog is the one writer of channel events (other features'
 * membership and topic events included); SendPipeline, MessageCommands and MessageQueries are the
 * send, change and read sides.
 */
@Module({
  imports: [DiscoveryModule],
  controllers: [MessagesController],
  providers: [
    ChannelLog,
    ChannelLogRepository,
    ChannelEventRepository,
    MessageRepository,
    ReactionRepository,
    ReadMarkRepository,
    MessageViews,
    MessageWriter,
    SendPipeline,
    MessageCommands,
    MessageQueries,
    ReadMarks,
    MessagesService,
  ],
  exports: [ChannelLog, SendPipeline, MessageCommands, MessageQueries, ReadMarks, MessagesService],
})
export class MessagesModule {}
