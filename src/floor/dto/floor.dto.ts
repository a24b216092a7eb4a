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
