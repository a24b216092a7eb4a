import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';

export class SyncChannelDto {
  @ApiProperty({ description: 'A channel the caller is a member of', format: 'uuid' })
  @IsUUID()
  channelId: string;

  @ApiProperty({
    description: 'The last seq the client has; events after it are answered',
    type: 'integer',
    minimum: 0,
    example: 40,
  })
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  afterSeq: number;
}

export class SyncDto {
  /** Entries beyond SYNC_MAX_CHANNELS distinct channels are refused by the handler; this bounds the frame's work. */
  @ApiProperty({ description: 'Channels to catch up on: at most 100 distinct (SYNC_MAX_CHANNELS), a channel named twice is answered once', type: [SyncChannelDto], maxItems: 1000 })
  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => SyncChannelDto)
  channels: SyncChannelDto[];

  @ApiPropertyOptional({
    description: 'Events per channel, 1..SYNC_PAGE_LIMIT (default and cap 500)',
    type: 'integer',
    minimum: 1,
    maximum: 500,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class ChannelReadDto {
  @ApiProperty({ description: 'Channel read', format: 'uuid' })
  @IsUUID()
  channelId: string;

  @ApiProperty({
    description: 'The seq read up to; never moves the mark backwards or past the head',
    type: 'integer',
    minimum: 0,
    example: 42,
  })
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  seq: number;
}

export class TypingDto {
  @ApiProperty({ description: 'Channel typed in', format: 'uuid' })
  @IsUUID()
  channelId: string;

  @ApiPropertyOptional({ description: 'Topic typed in', format: 'uuid' })
  @IsOptional()
  @IsUUID()
  topicId?: string;
}

export const PRESENCE_STATUSES = ['online', 'away', 'dnd'] as const;
export type PresenceStatus = (typeof PRESENCE_STATUSES)[number];

export class PresenceSetDto {
  @ApiProperty({
    description: 'The status others see while you are connected',
    enum: PRESENCE_STATUSES,
    example: 'away',
  })
  @IsIn(PRESENCE_STATUSES)
  status: PresenceStatus;
}

export class AuthRefreshDto {
  @ApiProperty({
    description: 'A new access token of the same user',
    minLength: 1,
    maxLength: 4096,
    example: 'eyJhbGciOiJIUzI1NiJ9.e30.sig',
  })
  @IsString()
  @Length(1, 4096)
  token: string;
}
