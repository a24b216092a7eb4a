import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, IsString, IsUUID, Length, Max, Min, ValidateNested } from 'class-validator';

export class SyncChannelDto {
  @IsUUID()
  channelId: string;

  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  afterSeq: number;
}

export class SyncDto {
  /** Entries beyond SYNC_MAX_CHANNELS distinct channels are refused by the handler; this bounds the frame's work. */
  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => SyncChannelDto)
  channels: SyncChannelDto[];

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class ChannelReadDto {
  @IsUUID()
  channelId: string;

  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  seq: number;
}

export class TypingDto {
  @IsUUID()
  channelId: string;

  @IsOptional()
  @IsUUID()
  topicId?: string;
}

export const PRESENCE_STATUSES = ['online', 'away', 'dnd'] as const;
export type PresenceStatus = (typeof PRESENCE_STATUSES)[number];

export class PresenceSetDto {
  @IsIn(PRESENCE_STATUSES)
  status: PresenceStatus;
}

export class AuthRefreshDto {
  @IsString()
  @Length(1, 4096)
  token: string;
}
