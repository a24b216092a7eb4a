import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, IsUUID, Length, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { CLIENT_MSG_ID, ToInt, Trim } from '../../common/validators';

/** Body length is checked after trim; the upper bound is MESSAGE_MAX_LENGTH (default 4000). */
export const MESSAGE_MAX_LENGTH = Number(process.env.MESSAGE_MAX_LENGTH ?? 4000);

export class PostMessageDto {
  @ApiProperty({ description: 'Client-chosen idempotency key, 1..64 of [A-Za-z0-9_.:-]; a retry returns the first message' })
  @IsString()
  @Matches(CLIENT_MSG_ID, { message: 'clientMsgId must be 1..64 of [A-Za-z0-9_.:-]' })
  clientMsgId: string;

  @ApiProperty({ description: 'Message text, 1..4000 characters after trim' })
  @Trim()
  @IsString()
  @MinLength(1)
  @MaxLength(MESSAGE_MAX_LENGTH)
  body: string;

  @ApiPropertyOptional({ description: 'Topic of this channel to post in' })
  @IsOptional()
  @IsUUID()
  topicId?: string;

  @ApiPropertyOptional({ description: 'Message of this channel being replied to' })
  @IsOptional()
  @IsUUID()
  replyToId?: string;
}

export class SendMessageDto extends PostMessageDto {
  @ApiProperty({ description: 'Channel to send to' })
  @IsUUID()
  channelId: string;
}

/** The new text follows the same rules as a sent message's body. */
export class EditMessageDto extends PickType(PostMessageDto, ['body'] as const) {
  @ApiProperty({ description: 'Message to edit (own messages only)' })
  @IsUUID()
  messageId: string;
}

/** PATCH .../messages/:mid: the message is in the path. */
export class PatchMessageDto extends PickType(PostMessageDto, ['body'] as const) {}

/** The `:emoji` path segment; the router has already URL-decoded it. Other path params are checked by ParseIdPipe. */
export class EmojiParamDto {
  @IsString()
  @Length(1, 32)
  emoji: string;

  @IsOptional() @IsString() wid?: string;
  @IsOptional() @IsString() cid?: string;
  @IsOptional() @IsString() mid?: string;
}

export class ReadMarkDto {
  @ApiProperty({ description: 'Seq read up to; clamped to the head, never moves back' })
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  seq: number;
}

export class LastReadDto {
  @ApiProperty({ description: "The caller's read mark after the call" })
  lastReadSeq: number;
}

export class MessageIdDto {
  @ApiProperty({ description: 'Message id' })
  @IsUUID()
  messageId: string;
}

export class ReactionDto {
  @ApiProperty({ description: 'Message id' })
  @IsUUID()
  messageId: string;

  @ApiProperty({ description: 'Emoji, 1..32 characters' })
  @IsString()
  @Length(1, 32)
  emoji: string;
}

export class HistoryQueryDto {
  @ApiPropertyOptional({ description: 'Only messages with seq below this' })
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  before?: number;

  @ApiPropertyOptional({ description: 'Only messages with seq above this' })
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  after?: number;

  @ApiPropertyOptional({ description: 'Page size 1..200, default 50' })
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'Only messages of this topic' })
  @IsOptional()
  @IsUUID()
  topicId?: string;
}

export class EventsQueryDto {
  @ApiPropertyOptional({ description: 'Events with seq above this (default 0)' })
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  after?: number;

  @ApiPropertyOptional({ description: 'Page size 1..500, default 500' })
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class MessagePageDto {
  @ApiProperty({ description: 'Messages in ascending seq', type: 'array', items: { type: 'object' } })
  messages: unknown[];
  @ApiProperty({ description: 'More messages exist beyond this page in the paging direction' })
  hasMore: boolean;
}

export class EventPageDto {
  @ApiProperty({ description: 'Events in ascending seq', type: 'array', items: { type: 'object' } })
  events: unknown[];
  @ApiProperty({ description: "The channel's current head seq" })
  headSeq: number;
  @ApiProperty({ description: 'More events exist after this page' })
  hasMore: boolean;
}
