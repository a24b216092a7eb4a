import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AccessService } from '../access/access.service';
import type { NotifyLevel } from '../channels/channel-member.entity';
import type { NotificationLevelDto } from './dto/notification-level.dto';

/** A member's notification level per channel; the push worker reads it when a message arrives. */
@Injectable()
export class NotificationSettingsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly access: AccessService,
  ) {}

  async setLevel(
    userId: string,
    workspaceId: string,
    channelId: string,
    level: NotifyLevel,
  ): Promise<NotificationLevelDto> {
    await this.access.requireChannelMember(channelId, userId, workspaceId);
    await this.dataSource.query('UPDATE channel_members SET notify_level = $3 WHERE channel_id = $1 AND user_id = $2', [
      channelId,
      userId,
      level,
    ]);
    return { channelId, level };
  }
}
