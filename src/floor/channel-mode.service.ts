import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AccessService, isAdminRole } from '../access/access.service';
import { AppException } from '../common/app.exception';
import type { ChannelMode } from '../channels/channel.entity';
import { ChannelView, toChannelView } from '../channels/channel.view';
import { FanoutService } from '../fanout/fanout.service';
import { MessagesService } from '../messages/messages.service';
import { ChannelModeRepository } from './channel-mode.repository';
import { FloorService } from './floor.service';

/** Switches a channel between `chat` and `ptt`, with a `channel.updated` event in the channel log. */
@Injectable()
export class ChannelModeService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly access: AccessService,
    private readonly channels: ChannelModeRepository,
    private readonly messages: MessagesService,
    private readonly fanout: FanoutService,
    private readonly floor: FloorService,
  ) {}

  async setMode(callerId: string, workspaceId: string, channelId: string, mode: ChannelMode): Promise<ChannelView> {
    const access = await this.access.requireChannelVisible(channelId, callerId, workspaceId);
    if (!isAdminRole(access.role)) throw AppException.forbidden('Only owners and admins may change the channel mode');
    const outcome = await this.dataSource.transaction(async (manager) => {
      const row = await this.channels.setMode(manager, channelId, mode);
      if (!row) return null;
      // The row is locked by the UPDATE: the event about to be appended takes the next seq.
      const channel = { ...toChannelView(row), headSeq: Number(row.head_seq) + 1 };
      const events = await this.messages.appendInTransaction(manager, channelId, [{ type: 'channel.updated', data: channel }]);
      return { channel, events };
    });
    this.floor.forgetMode(channelId);
    if (!outcome) {
      const row = await this.channels.channel(channelId);
      if (!row) throw AppException.notFound('Channel');
      return toChannelView(row);
    }
    this.fanout.publishEvents(outcome.events);
    if (mode === 'chat') await this.floor.cleared(channelId);
    return outcome.channel;
  }
}
