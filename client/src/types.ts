/**
 * Wire shapes of the Pigeon protocol (docs/PROTOCOL.md, v1). These mirror the contract and
 * carry no behaviour; the server is the source of truth.
 */

/** Error codes the server sends in REST bodies and socket acks. */
export type ErrorCode =
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'VALIDATION'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'LIMIT_REACHED'
  | 'FLOOR_NOT_HELD'
  | 'INTERNAL';

/**
 * Codes the SDK itself produces, for failures that never reached (or never came back from) the
 * server: an ack that did not arrive in time, a socket that dropped mid-request, a client that was
 * closed, a retry budget that ran out, or a connect that failed below Socket.IO's middleware.
 */
export type ClientErrorCode =
  | 'TIMEOUT'
  | 'DISCONNECTED'
  | 'CLIENT_CLOSED'
  | 'DEADLINE_EXCEEDED'
  | 'CONNECT_FAILED';

/** Any code a PigeonError may carry; unknown server codes pass through as strings. */
export type PigeonErrorCode = ErrorCode | ClientErrorCode | (string & {});

export interface ErrorBody {
  code: PigeonErrorCode;
  message: string;
  retryAfterMs?: number;
}

export type Ack<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };

export type Role = 'owner' | 'admin' | 'member' | 'guest';
export type ChannelKind = 'public' | 'private' | 'direct';
export type PresenceStatus = 'online' | 'away' | 'dnd';
export type PresenceState = PresenceStatus | 'offline';
export type VoiceStatus = 'recording' | 'processing' | 'ready' | 'failed';
export type VoiceMimeType = 'audio/webm;codecs=opus' | 'audio/ogg;codecs=opus' | 'audio/mp4';

export interface Reaction {
  emoji: string;
  count: number;
  userIds: string[];
}

export interface Voice {
  id: string;
  status: VoiceStatus;
  mimeType: string;
  durationMs: number | null;
  /** 64 integers, 0..100. */
  waveform: number[] | null;
  url: string | null;
}

export interface Message {
  id: string;
  workspaceId: string;
  channelId: string;
  topicId: string | null;
  seq: number;
  authorId: string;
  clientMsgId: string | null;
  kind: 'text' | 'voice' | 'system';
  body: string;
  replyToId: string | null;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
  reactions: Reaction[];
  voice: Voice | null;
}

export interface Channel {
  id: string;
  workspaceId: string;
  name: string;
  kind: ChannelKind;
  createdAt: string;
  headSeq: number;
}

export interface Topic {
  id: string;
  channelId: string;
  title: string;
  [field: string]: unknown;
}

/** `event.data` for each `event.type`. */
export interface EventDataMap {
  'message.created': Message;
  'message.updated': Message;
  'message.deleted': Message;
  'member.joined': { userId: string };
  'member.left': { userId: string };
  'topic.created': Topic;
  'channel.updated': Channel;
}

export type EventType = keyof EventDataMap;

/** The durable-change envelope the server emits as `event` and serves from `sync`. */
export type EventEnvelope = {
  [K in EventType]: {
    workspaceId: string;
    channelId: string;
    seq: number;
    type: K;
    at: string;
    data: EventDataMap[K];
  };
}[EventType];

export interface ReadyChannel {
  id: string;
  headSeq: number;
  lastReadSeq: number;
}

export interface ReadyWorkspace {
  id: string;
  role: Role;
  channels: ReadyChannel[];
}

export interface ReadyPayload {
  userId: string;
  workspaces: ReadyWorkspace[];
}

export interface SyncRequest {
  channels: { channelId: string; afterSeq: number }[];
  limit?: number;
}

export interface SyncChannelResult {
  channelId: string;
  events: EventEnvelope[];
  headSeq: number;
  hasMore: boolean;
}

export interface SyncResponse {
  channels: SyncChannelResult[];
}

export interface TypingEvent {
  workspaceId: string;
  channelId: string;
  topicId: string | null;
  userId: string;
}

export interface PresenceEvent {
  workspaceId: string;
  users: { userId: string; status: PresenceState }[];
}

export interface ReadEvent {
  workspaceId: string;
  channelId: string;
  userId: string;
  seq: number;
}

/** `data` is a Buffer in Node and an ArrayBuffer in browsers. */
export interface VoiceChunkEvent {
  voiceId: string;
  messageId: string;
  channelId: string;
  index: number;
  data: ArrayBuffer | Uint8Array;
}

export interface VoiceListenedEvent {
  messageId: string;
  userId: string;
}

export interface AuthExpiringEvent {
  expiresAt: string;
}

export interface SendMessageInput {
  channelId: string;
  body: string;
  topicId?: string;
  replyToId?: string;
  /** 1..64 of [A-Za-z0-9_.:-]; generated when missing. Reuse it to retry safely. */
  clientMsgId?: string;
}

/** Every client-to-server event with its payload and ack data. */
export interface RequestMap {
  'message:send': {
    payload: { channelId: string; clientMsgId: string; body: string; topicId?: string; replyToId?: string };
    data: Message;
  };
  'message:edit': { payload: { messageId: string; body: string }; data: Message };
  'message:delete': { payload: { messageId: string }; data: { id: string } };
  'reaction:add': { payload: { messageId: string; emoji: string }; data: Record<string, never> };
  'reaction:remove': { payload: { messageId: string; emoji: string }; data: Record<string, never> };
  sync: { payload: SyncRequest; data: SyncResponse };
  'channel:read': { payload: { channelId: string; seq: number }; data: { lastReadSeq: number } };
  typing: { payload: { channelId: string; topicId?: string }; data: Record<string, never> };
  'presence:set': { payload: { status: PresenceStatus }; data: Record<string, never> };
  'voice:start': {
    payload: { channelId: string; clientMsgId: string; mimeType: VoiceMimeType; topicId?: string };
    data: Message;
  };
  'voice:chunk': {
    payload: { voiceId: string; index: number; data: ArrayBuffer | Uint8Array };
    data: { index: number; duplicate: boolean };
  };
  'voice:end': { payload: { voiceId: string; chunks: number; durationMs: number }; data: Message };
  'voice:listened': { payload: { messageId: string }; data: Record<string, never> };
  'auth:refresh': { payload: { token: string }; data: { expiresAt: string } };
}

export type RequestEvent = keyof RequestMap;
