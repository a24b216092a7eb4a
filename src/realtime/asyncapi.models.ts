import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { UnheardTopicDto } from '../channels/dto/channel.dto';
import { ErrorDetailDto } from '../common/api-docs';
import { ErrorCode } from '../common/error-code';
import { EventDto } from '../messages/dto/message.dto';
import { WORKSPACE_ROLES } from '../workspaces/workspace-member.entity';

/*
 * Shapes that exist only on the socket (server-to-client payloads and ack data). They are documentation
 * classes, like the REST response DTOs: the gateways build plain objects, these describe them for the
 * AsyncAPI document (src/realtime/asyncapi.ts), which takes their schemas from the Swagger document.
 */

export class ReadyChannelDto {
  @ApiProperty({ description: 'Channel id (the socket is in room ch:<id>)', format: 'uuid' }) id: string;
  @ApiProperty({ description: "The channel's head seq at connect", type: 'integer', example: 42 }) headSeq: number;
  @ApiProperty({ description: "The user's read mark", type: 'integer', example: 40 }) lastReadSeq: number;
  @ApiProperty({ description: 'chat, or ptt (push-to-talk floor)', enum: ['chat', 'ptt'] }) mode: string;
  @ApiProperty({ description: 'Voice messages of others the user has not finished', type: 'integer' }) unheardCount: number;
  @ApiProperty({ description: 'The part of unheardCount in each topic (topics with none are left out)', type: () => [UnheardTopicDto] })
  unheardTopics: UnheardTopicDto[];
}

export class ReadyWorkspaceDto {
  @ApiProperty({ description: 'Workspace id (the socket is in room ws:<id>)', format: 'uuid' }) id: string;
  @ApiProperty({ description: "The user's role", enum: WORKSPACE_ROLES, example: 'member' }) role: string;
  @ApiProperty({ description: 'Channels the user is a member of', type: [ReadyChannelDto] })
  channels: ReadyChannelDto[];
}

export class ReadyDto {
  @ApiProperty({ description: 'The authenticated user', format: 'uuid' }) userId: string;
  @ApiProperty({ description: 'Every workspace of the user', type: [ReadyWorkspaceDto] })
  workspaces: ReadyWorkspaceDto[];
}

export class TypingEventDto {
  @ApiProperty({ format: 'uuid' }) workspaceId: string;
  @ApiProperty({ format: 'uuid' }) channelId: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'Topic, or null' }) topicId: string | null;
  @ApiProperty({ format: 'uuid', description: 'Who is typing' }) userId: string;
}

export class PresenceUserDto {
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty({ enum: ['online', 'away', 'dnd', 'offline'], example: 'online' }) status: string;
}

export class PresenceEventDto {
  @ApiProperty({ format: 'uuid' }) workspaceId: string;
  @ApiProperty({ type: [PresenceUserDto], description: 'Users whose status changed since the last batch' })
  users: PresenceUserDto[];
}

export class ReadEventDto {
  @ApiProperty({ format: 'uuid' }) workspaceId: string;
  @ApiProperty({ format: 'uuid' }) channelId: string;
  @ApiProperty({ format: 'uuid', description: 'The reader' }) userId: string;
  @ApiProperty({ type: 'integer', description: "The reader's new read mark", example: 42 }) seq: number;
}

export class VoiceChunkEventDto {
  @ApiProperty({ format: 'uuid' }) voiceId: string;
  @ApiProperty({ format: 'uuid' }) messageId: string;
  @ApiProperty({ format: 'uuid' }) channelId: string;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Chunks arrive in index order' }) index: number;
  @ApiProperty({ type: 'string', format: 'binary', description: 'The bytes, a Socket.IO binary attachment' })
  data: Buffer;
}

export class VoiceListenedEventDto {
  @ApiProperty({ format: 'uuid' }) messageId: string;
  @ApiProperty({ format: 'uuid', description: 'Who finished listening' }) userId: string;
}

export class AuthExpiringDto {
  @ApiProperty({ format: 'date-time', description: 'When the socket is disconnected unless auth:refresh arrives' })
  expiresAt: string;
}

export class ServerShutdownDto {
  @ApiProperty({ enum: ['shutdown'], description: 'Why this node asks its sockets to leave (a deploy or restart)' })
  reason: 'shutdown';
}

// ------------------------------------------------------------------ ack data

export class EmptyAckDataDto {}

export class DeletedMessageDto {
  @ApiProperty({ format: 'uuid', description: 'The deleted message' }) id: string;
}

export class SyncChannelPageDto {
  @ApiProperty({ format: 'uuid' }) channelId: string;
  @ApiProperty({ type: [EventDto], description: 'Events after afterSeq, ascending' }) events: EventDto[];
  @ApiProperty({ type: 'integer', description: "The channel's head seq" }) headSeq: number;
  @ApiProperty({ description: 'More events exist: sync again from the last seq' }) hasMore: boolean;
}

export class SyncResultDto {
  @ApiProperty({ type: [SyncChannelPageDto] }) channels: SyncChannelPageDto[];
}

export class LastReadSeqDto {
  @ApiProperty({ type: 'integer', example: 42 }) lastReadSeq: number;
}

export class VoiceChunkAckDto {
  @ApiProperty({ type: 'integer', description: 'The index acknowledged' }) index: number;
  @ApiProperty({ description: 'true when this index had arrived before (not relayed again)' }) duplicate: boolean;
}

export class AuthRefreshResultDto {
  @ApiProperty({ format: 'date-time', description: 'The new expiry of this socket' }) expiresAt: string;
}

/** `error` of a refused ack: the REST error body without statusCode. */
export class AckErrorDto {
  @ApiProperty({ enum: ErrorCode, enumName: 'ErrorCode', example: ErrorCode.VALIDATION }) code: ErrorCode;
  @ApiProperty({ example: 'body must be longer than or equal to 1 characters' }) message: string;
  @ApiPropertyOptional({ type: 'integer', description: 'RATE_LIMITED only' }) retryAfterMs?: number;
  @ApiPropertyOptional({ type: [ErrorDetailDto], description: 'VALIDATION only: the fields' })
  details?: ErrorDetailDto[];
}

/** `connect_error.data` of a refused handshake (`message` is the code). */
export class HandshakeErrorDto {
  @ApiProperty({ enum: [ErrorCode.UNAUTHORIZED, ErrorCode.FORBIDDEN], example: ErrorCode.UNAUTHORIZED }) code: string;
  @ApiProperty({ example: 'Invalid or expired access token' }) message: string;
}
