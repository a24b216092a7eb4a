import { Injectable } from '@nestjs/common';
import { AccessService } from '../access/access.service';
import { channelRoom, FanoutService } from '../fanout/fanout.service';
import { ReadMarkRepository } from './read-mark.repository';

/** `channel:read` and PUT .../read: one rule for both, then `read` to the channel room. */
@Injectable()
export class ReadMarks {
  constructor(
    private readonly access: AccessService,
    private readonly marks: ReadMarkRepository,
    private readonly fanout: FanoutService,
  ) {}

  async markRead(userId: string, channelId: string, seq: number, workspaceId?: string): Promise<{ lastReadSeq: number }> {
    const access = await this.access.requireChannelMember(channelId, userId, workspaceId);
    const lastReadSeq = await this.marks.advance(channelId, userId, seq);
    this.fanout.emit(channelRoom(channelId), 'read', { workspaceId: access.workspaceId, channelId, userId, seq: lastReadSeq });
    return { lastReadSeq };
  }
}
