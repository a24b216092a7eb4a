import { Injectable } from '@nestjs/common';
import { AccessService } from '../access/access.service';
import type { NotifyLevel } from '../channels/channel-member.entity';
import type { NotificationLevelDto } from './dto/notification-level.dto';
import { PushRecipientRepository } from './push-recipient.repository';

/** A member's notification level per channel; the push worker reads it when a message arrives. */
@Injectable()
export class NotificationSettingsService {
  constructor(
    private readonly recipients: PushRecipientRepository,
    private readonly access: AccessService,
  ) {}

  async setLevel(
    userId: string,
    workspaceId: string,
    channelId: string,
    level: NotifyLevel,
  ): Promise<NotificationLevelDto> {
    await this.access.requireChannelMember(channelId, userId, workspaceId);
    await this.recipients.setLevel(channelId, userId, level);
    return { channelId, level };
  }
}
