import { Injectable } from '@nestjs/common';
import { AccessService, isAdminRole } from '../access/access.service';
import { AppException } from '../common/app.exception';
import type { ChannelMode } from '../channels/channel.entity';
import { ChannelView, toChannelView } from '../channels/channel.view';
import { ChannelLog } from '../messages/channel-log';
import { ChannelModeRepository } from './channel-mode.repository';
import { FloorService } from './floor.service';

/** Switches a channel between `chat` and `ptt`, with a `channel.updated` event in the channel log. */
@Injectable()
export class ChannelModeService {
  constructor(
    private readonly access: AccessService,
    private readonly channels: ChannelModeRepository,
    private readonly log: ChannelLog,
    private readonly floor: FloorService,
  ) {}

  async setMode(callerId: string, workspaceId: string, channelId: string, mode: ChannelMode): Promise<ChannelView> {
    const access = await this.access.requireChannelVisible(channelId, callerId, workspaceId);
    if (!isAdminRole(access.role)) throw AppException.forbidden('Only owners and admins may change the channel mode');
    const outcome = await this.log.transaction(async (manager) => {
      const head = await this.log.lockOne(manager, channelId);
      const row = await this.channels.setMode(manager, channelId, mode);
      if (!row) return null;
      // The event about to be appended takes the next seq; the channel it carries names that head.
      const channel = { ...toChannelView(row), headSeq: head.headSeq + 1 };
      await this.log.append(manager, channelId, [{ type: 'channel.updated', data: channel }]);
      return { channel };
    });
    this.floor.forgetMode(channelId);
    if (!outcome) {
      const row = await this.channels.channel(channelId);
      if (!row) throw AppException.notFound('Channel');
      return toChannelView(row);
    }
    if (mode === 'chat') await this.floor.cleared(channelId);
    return outcome.channel;
  }
}
