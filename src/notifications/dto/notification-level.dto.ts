import { ApiProperty } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { NOTIFY_LEVELS, type NotifyLevel } from '../../channels/channel-member.entity';

export class SetNotificationLevelDto {
  @ApiProperty({ enum: NOTIFY_LEVELS, description: 'Which new messages of this channel send you a push while offline', example: 'mentions' })
  @IsIn(NOTIFY_LEVELS)
  level: NotifyLevel;
}

export class NotificationLevelDto {
  @ApiProperty({ description: 'Channel id', format: 'uuid' }) channelId: string;
  @ApiProperty({ enum: NOTIFY_LEVELS }) level: NotifyLevel;
}
