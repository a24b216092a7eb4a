import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsUUID } from 'class-validator';
import { CHANNEL_MODES, type ChannelMode } from '../../channels/channel.entity';

export class FloorRequestDto {
  @ApiProperty({ description: 'A ptt channel the caller is a member of', format: 'uuid' })
  @IsUUID()
  channelId: string;

  @ApiPropertyOptional({ description: 'Owners/admins only: take the floor from the holder at once' })
  @IsOptional()
  @IsBoolean()
  priority?: boolean;
}

export class FloorReleaseDto {
  @ApiProperty({ description: 'The channel whose floor the caller holds or waits for', format: 'uuid' })
  @IsUUID()
  channelId: string;
}

export class ChannelModeDto {
  @ApiProperty({ description: 'chat (default) or ptt (push-to-talk floor control)', enum: CHANNEL_MODES })
  @IsIn(CHANNEL_MODES)
  mode: ChannelMode;
}

export class FloorRequestResultDto {
  @ApiProperty({ enum: ['granted', 'queued'] }) state: 'granted' | 'queued';
  @ApiPropertyOptional({ type: 'integer', minimum: 1, description: 'Only when queued: 1 = next' }) position?: number;
}

export class FloorEventDto {
  @ApiProperty({ format: 'uuid' }) workspaceId: string;
  @ApiProperty({ format: 'uuid' }) channelId: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'Who may talk now; null when idle' })
  holder: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'When the holder got the floor' })
  since: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'since + the maximum talk time' })
  expiresAt: string | null;
  @ApiProperty({ type: 'string', format: 'uuid', isArray: true, description: 'Waiting users, next first' }) queue: string[];
  @ApiProperty({ type: 'integer', description: 'Rises with every change of the floor: keep the highest seen' }) rev: number;
}
