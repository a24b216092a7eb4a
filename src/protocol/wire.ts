/**
 * Wire shapes of the Pigeon protocol (docs/PROTOCOL.md): types only, no behaviour. The server's
 * views (`import type`) and the SDK (`@pigeon/client`, whose build inlines this file) both use
 * them, so a change here is a change to both; test/sdk-protocol.spec.ts checks the server side.
 */
import type { ErrorCode } from './error-codes';

export type { ErrorCode } from './error-codes';

export interface ValidationDetail {
  field: string;
  message: string;
}

/** A REST error body without `statusCode`, and a socket ack's `error`. */
export interface WireError {
  code: ErrorCode | (string & {});
  message: string;
  retryAfterMs?: number;
  details?: ValidationDetail[];
}

/** REST error body. */
export interface RestErrorBody extends WireError {
  statusCode: number;
}

export type Ack<T> = { ok: true; data: T } | { ok: false; error: WireError };

export type Role = 'owner' | 'admin' | 'member' | 'guest';
export type ChannelKind = 'public' | 'private' | 'direct';
/** `ptt`: push-to-talk, one speaker at a time (the floor). */
export type ChannelMode = 'chat' | 'ptt';
export type PresenceStatus = 'online' | 'away' | 'dnd';
export type PresenceState = PresenceStatus | 'offline';
export type VoiceStatus = 'recording' | 'processing' | 'ready' | 'failed';
export type VoiceMimeType = 'audio/webm;codecs=opus' | 'audio/ogg;codecs=opus' | 'audio/mp4' | (string & {});
export type MessageKind = 'text' | 'voice' | 'system';

export interface Reaction {
  emoji: string;
  count: number;
  userIds: string[];
}

export interface Voice {
  id: string;
  status: VoiceStatus;
  mimeType: string | null;
  durationMs: number | null;
  /** 64 integers, 0..100. */
  waveform: number[] | null;
  /**
   * In message views and events the plain path `/api/voice/:id/audio` (needs the bearer token); from
   * `GET /api/voice/:id` a path signed for the caller (`?u=&expires=&sig=`, 10 min). PigeonApi.voice.audioUrl
   * makes it absolute.
   */
  url: string | null;
  /** Speech to text, when the server runs a TRANSCRIBE_CMD and it has finished; otherwise null. */
  transcript: string | null;
}

/** `GET /api/voice/:voiceId`. */
export interface VoiceDetails extends Voice {
  messageId: string;
  channelId: string;
  failureReason?: string | null;
}

export interface Message {
  id: string;
  workspaceId: string;
  channelId: string;
  topicId: string | null;
  seq: number;
  authorId: string;
  clientMsgId: string;
  kind: MessageKind;
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
  /** null for `direct` channels. */
  name: string | null;
  kind: ChannelKind;
  mode: ChannelMode;
  createdAt: string;
  headSeq: number;
}

/** A row of `GET /api/workspaces/:wid/channels`. */
/** Unheard voice messages of one topic (only topics that have any are listed). */
export interface UnheardTopic {
  topicId: string;
  unheardCount: number;
}

export interface ChannelListItem extends Channel {
  lastReadSeq: number;
  unreadCount: number;
  /** Voice messages of others the caller has not finished (`voice:listened`); 0 when not a member. */
  unheardCount: number;
  /** The part of unheardCount in each topic. */
  unheardTopics: UnheardTopic[];
  isMember: boolean;
}

export interface Topic {
  id: string;
  channelId: string;
  workspaceId: string;
  title: string;
  createdBy: string;
  createdAt: string;
  lastActivityAt: string;
}

export interface User {
  id: string;
  email: string;
  displayName: string;
}

export interface Workspace {
  id: string;
  name: string;
  slug: string;
  createdAt: string;
  /** The caller's role. */
  role: Role;
}

export interface Member {
  userId: string;
  displayName: string;
  role: Role;
  presence: PresenceState;
}

export interface AuthResult {
  user: User;
  accessToken: string;
  refreshToken: string;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

export interface Invite {
  code: string;
  expiresAt: string | null;
  role: Role;
  maxUses: number | null;
}

export interface InviteAccepted {
  workspaceId: string;
  userId: string;
  role: Role;
}

export interface MessagePage {
  messages: Message[];
  hasMore: boolean;
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

/** The durable-change envelope the server emits as `event` and serves from `sync` and `/events`. */
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

export interface EventPage {
  events: EventEnvelope[];
  headSeq: number;
  hasMore: boolean;
}

export interface ReadyChannel {
  id: string;
  headSeq: number;
  lastReadSeq: number;
  mode: ChannelMode;
  unheardCount: number;
  unheardTopics: UnheardTopic[];
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

/** Server event `floor`: the push-to-talk floor of a `ptt` channel after every change. */
export interface FloorEvent {
  workspaceId: string;
  channelId: string;
  holder: string | null;
  /** When the holder got the floor; null while nobody holds it. */
  since: string | null;
  /** `since` + the maximum talk time; null while nobody holds it. */
  expiresAt: string | null;
  /** Waiting users, next first. */
  queue: string[];
  /** Rises with every change of this channel's floor: a client keeps the highest it has seen. */
  rev: number;
}

/** `floor:request`'s ack data. */
export interface FloorRequestResult {
  state: 'granted' | 'queued';
  /** 1 = next; only when queued. */
  position?: number;
}

/** A row of `GET /api/voice/:voiceId/listeners`. */
export interface VoiceListener {
  userId: string;
  positionMs: number;
  listenedAt: string | null;
}

export interface AuthExpiringEvent {
  expiresAt: string;
}

export type EmptyAck = Record<string, never>;

/** Every client-to-server event with its payload and ack data. */
export interface RequestMap {
  'message:send': {
    payload: { channelId: string; clientMsgId: string; body: string; topicId?: string; replyToId?: string };
    data: Message;
  };
  'message:edit': { payload: { messageId: string; body: string }; data: Message };
  'message:delete': { payload: { messageId: string }; data: { id: string } };
  'reaction:add': { payload: { messageId: string; emoji: string }; data: EmptyAck };
  'reaction:remove': { payload: { messageId: string; emoji: string }; data: EmptyAck };
  sync: { payload: SyncRequest; data: SyncResponse };
  'channel:read': { payload: { channelId: string; seq: number }; data: { lastReadSeq: number } };
  typing: { payload: { channelId: string; topicId?: string }; data: EmptyAck };
  'presence:set': { payload: { status: PresenceStatus }; data: EmptyAck };
  'voice:start': {
    payload: { channelId: string; clientMsgId: string; mimeType: VoiceMimeType; topicId?: string };
    data: Message;
  };
  'voice:chunk': {
    payload: { voiceId: string; index: number; data: ArrayBuffer | Uint8Array };
    data: { index: number; duplicate: boolean };
  };
  'voice:end': { payload: { voiceId: string; chunks: number; durationMs: number }; data: Message };
  'voice:listened': { payload: { messageId: string }; data: EmptyAck };
  'voice:progress': { payload: { messageId: string; positionMs: number }; data: { positionMs: number } };
  'floor:request': { payload: { channelId: string; priority?: boolean }; data: FloorRequestResult };
  'floor:release': { payload: { channelId: string }; data: EmptyAck };
  'auth:refresh': { payload: { token: string }; data: { expiresAt: string } };
}

export type RequestEvent = keyof RequestMap;
