import { Transform } from 'class-transformer';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath, PickType } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, IsString, IsUUID, Length, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { ChannelDto } from '../../channels/dto/channel.dto';
import { TopicDto } from '../../channels/dto/topic.dto';
import { CLIENT_MSG_ID, ToInt, Trim } from '../../common/validators';
import { EVENT_TYPES, type ChannelEventType } from '../channel-event.entity';
import { MESSAGE_KINDS, type MessageKind } from '../message.entity';

/**
 * Body length is checked after trim; the upper bound is MESSAGE_MAX_LENGTH (default 4000). Read here,
 * not through AppConfigService, because class-validator takes the bound when the class is defined,
 * before DI exists; the process never gets this far with a value the env schema refuses.
 */
export const MESSAGE_MAX_LENGTH = Number(process.env.MESSAGE_MAX_LENGTH ?? 4000);

export class PostMessageDto {
  @ApiProperty({
    description: 'Client-chosen idempotency key, 1..64 of [A-Za-z0-9_.:-]; a retry returns the first message',
    pattern: CLIENT_MSG_ID.source,
    example: 'c-1733145600000-1',
  })
  @IsString()
  @Matches(CLIENT_MSG_ID, { message: 'clientMsgId must be 1..64 of [A-Za-z0-9_.:-]' })
  clientMsgId: string;

  @ApiProperty({
    description: 'Message text, 1..MESSAGE_MAX_LENGTH (default 4000) characters after trim; `<@userId>` mentions a member',
    minLength: 1,
    maxLength: MESSAGE_MAX_LENGTH,
    example: 'Standup moved to 10:30',
  })
  @Trim()
  @IsString()
  @MinLength(1)
  @MaxLength(MESSAGE_MAX_LENGTH)
  body: string;

  @ApiPropertyOptional({ description: 'Topic of this channel to post in', format: 'uuid' })
  @IsOptional()
  @IsUUID()
  topicId?: string;

  @ApiPropertyOptional({ description: 'Message of this channel being replied to', format: 'uuid' })
  @IsOptional()
  @IsUUID()
  replyToId?: string;
}

export class SendMessageDto extends PostMessageDto {
  @ApiProperty({ description: 'Channel to send to', format: 'uuid' })
  @IsUUID()
  channelId: string;
}

/** The new text follows the same rules as a sent message's body. */
export class EditMessageDto extends PickType(PostMessageDto, ['body'] as const) {
  @ApiProperty({ description: 'Message to edit (own messages only)', format: 'uuid' })
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
  @ApiProperty({ description: 'Message id', format: 'uuid' })
  @IsUUID()
  messageId: string;
}

export class ReactionDto {
  @ApiProperty({ description: 'Message id', format: 'uuid' })
  @IsUUID()
  messageId: string;

  @ApiProperty({ description: 'Emoji, 1..32 characters', minLength: 1, maxLength: 32, example: '👍' })
  @IsString()
  @Length(1, 32)
  emoji: string;
}

export class HistoryQueryDto {
  @ApiPropertyOptional({ description: 'Only messages with seq below this', type: 'integer', minimum: 0, example: 120 })
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  before?: number;

  @ApiPropertyOptional({ description: 'Only messages with seq above this', type: 'integer', minimum: 0 })
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  after?: number;

  @ApiPropertyOptional({ description: 'Page size 1..200, default 50', type: 'integer', minimum: 1, maximum: 200, example: 50 })
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'Only messages of this topic', format: 'uuid' })
  @IsOptional()
  @IsUUID()
  topicId?: string;

  @ApiPropertyOptional({
    description: "true: only the caller's unheard voice messages (of others, not finished), oldest first; page on with `after`",
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  unheard?: boolean;
}

export class EventsQueryDto {
  @ApiPropertyOptional({ description: 'Events with seq above this (default 0)', type: 'integer', minimum: 0, example: 0 })
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  after?: number;

  @ApiPropertyOptional({
    description: 'Page size 1..500, default SYNC_PAGE_LIMIT (500)',
    type: 'integer',
    minimum: 1,
    maximum: 500,
  })
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class MessageReactionDto {
  @ApiProperty({ description: 'The emoji', example: '👍' }) emoji: string;
  @ApiProperty({ description: 'How many users gave it', type: 'integer', example: 2 }) count: number;
  @ApiProperty({ description: 'Who gave it', type: 'string', format: 'uuid', isArray: true }) userIds: string[];
}

export const VOICE_STATUSES = ['recording', 'processing', 'ready', 'failed'] as const;

/** `message.voice`: null for text messages. */
export class MessageVoiceDto {
  @ApiProperty({ description: 'Voice id, for GET /api/voice/{voiceId} and the socket voice events', format: 'uuid' })
  id: string;
  @ApiProperty({ enum: VOICE_STATUSES, description: 'recording (live), processing (transcoding), ready or failed' })
  status: (typeof VOICE_STATUSES)[number];
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Declared type while recording, then the type sniffed from the bytes',
    example: 'audio/webm',
  })
  mimeType: string | null;
  @ApiProperty({ nullable: true, type: 'integer', description: 'Measured by the server once processed', example: 4200 })
  durationMs: number | null;
  @ApiProperty({
    nullable: true,
    type: 'integer',
    isArray: true,
    minItems: 64,
    maxItems: 64,
    description: '64 peaks, 0..100 (the loudest is 100); null until processed',
  })
  waveform: number[] | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Signed audio path, valid 1 h, usable without a header; null once failed',
    example: '/api/voice/0b8c2f5e-6f0a-4a43-9d7e-4a1f3c2b9e10/audio?expires=1733149200&sig=3f9a',
  })
  url: string | null;
}

/** The contract's message shape (`MessageView`). */
export class MessageDto {
  @ApiProperty({ description: 'Message id', format: 'uuid' }) id: string;
  @ApiProperty({ description: 'Workspace id', format: 'uuid' }) workspaceId: string;
  @ApiProperty({ description: 'Channel id', format: 'uuid' }) channelId: string;
  @ApiProperty({ description: 'Topic id, or null', format: 'uuid', nullable: true, type: String }) topicId: string | null;
  @ApiProperty({ description: 'The seq of its message.created event', type: 'integer', example: 42 }) seq: number;
  @ApiProperty({ description: 'Author user id', format: 'uuid' }) authorId: string;
  @ApiProperty({ description: "The author's idempotency key", example: 'c-1733145600000-1' }) clientMsgId: string;
  @ApiProperty({ enum: MESSAGE_KINDS, description: 'text, voice or system', example: 'text' }) kind: MessageKind;
  @ApiProperty({ description: 'Text; "" once deleted', example: 'Standup moved to 10:30' }) body: string;
  @ApiProperty({ description: 'The message replied to, or null', format: 'uuid', nullable: true, type: String })
  replyToId: string | null;
  @ApiProperty({ description: 'Creation time, ISO-8601', format: 'date-time' }) createdAt: string;
  @ApiProperty({ description: 'Last edit, ISO-8601, or null', format: 'date-time', nullable: true, type: String })
  editedAt: string | null;
  @ApiProperty({ description: 'Deletion time, ISO-8601, or null', format: 'date-time', nullable: true, type: String })
  deletedAt: string | null;
  @ApiProperty({ type: [MessageReactionDto], description: 'Reactions, one entry per emoji' })
  reactions: MessageReactionDto[];
  @ApiProperty({ type: MessageVoiceDto, nullable: true, description: 'The voice clip; null for text and system messages' })
  voice: MessageVoiceDto | null;
}

/** `data` of member.joined and member.left. */
export class MemberEventDataDto {
  @ApiProperty({ description: 'The member who joined or left', format: 'uuid' }) userId: string;
}

/** The `event` envelope: the socket `event`, `sync` and GET .../events entries, and webhook bodies. */
@ApiExtraModels(MessageDto, MemberEventDataDto, TopicDto, ChannelDto)
export class EventDto {
  @ApiProperty({ description: 'Workspace id', format: 'uuid' }) workspaceId: string;
  @ApiProperty({ description: 'Channel id', format: 'uuid' }) channelId: string;
  @ApiProperty({ description: 'Position in the channel log: 1, 2, 3, ... without gaps', type: 'integer', example: 42 })
  seq: number;
  @ApiProperty({ enum: EVENT_TYPES, enumName: 'ChannelEventType', description: 'What changed', example: 'message.created' })
  type: ChannelEventType;
  @ApiProperty({ description: 'Commit time, ISO-8601', format: 'date-time' }) at: string;
  @ApiProperty({
    description:
      'message.created/updated/deleted: the message as it then is; member.joined/left: {userId}; ' +
      'topic.created: the topic; channel.updated: the channel',
    oneOf: [
      { $ref: getSchemaPath(MessageDto) },
      { $ref: getSchemaPath(MemberEventDataDto) },
      { $ref: getSchemaPath(TopicDto) },
      { $ref: getSchemaPath(ChannelDto) },
    ],
  })
  data: unknown;
}

export class MessagePageDto {
  @ApiProperty({ description: 'Messages in ascending seq', type: [MessageDto] })
  messages: MessageDto[];
  @ApiProperty({ description: 'More messages exist beyond this page in the paging direction' })
  hasMore: boolean;
}

export class EventPageDto {
  @ApiProperty({ description: 'Events in ascending seq', type: [EventDto] })
  events: EventDto[];
  @ApiProperty({ description: "The channel's current head seq", type: 'integer' })
  headSeq: number;
  @ApiProperty({ description: 'More events exist after this page' })
  hasMore: boolean;
}
