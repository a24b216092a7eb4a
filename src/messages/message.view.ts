import type { ChannelEventType } from './channel-event.entity';
import type { MessageKind } from './message.entity';

export interface ReactionView {
  emoji: string;
  count: number;
  userIds: string[];
}

export interface VoiceView {
  id: string;
  status: 'recording' | 'processing' | 'ready' | 'failed';
  mimeType: string | null;
  durationMs: number | null;
  waveform: number[] | null;
  url: string | null;
  /** Speech to text, when TRANSCRIBE_CMD is configured and has run; otherwise null. */
  transcript: string | null;
}

/** The contract's message shape. */
export interface MessageView {
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
  reactions: ReactionView[];
  voice: VoiceView | null;
}

/** The `event` envelope, as stored in channel_events and sent to sockets. */
export interface EventEnvelope {
  workspaceId: string;
  channelId: string;
  seq: number;
  type: ChannelEventType;
  at: string;
  data: unknown;
}

export interface MessageRow {
  id: string;
  workspace_id: string;
  channel_id: string;
  topic_id: string | null;
  seq: string | number;
  author_id: string;
  client_msg_id: string;
  kind: MessageKind;
  body: string;
  reply_to_id: string | null;
  created_at: Date;
  edited_at: Date | null;
  deleted_at: Date | null;
}

export function toMessageView(row: MessageRow, reactions: ReactionView[] = [], voice: VoiceView | null = null): MessageView {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    channelId: row.channel_id,
    topicId: row.topic_id,
    seq: Number(row.seq),
    authorId: row.author_id,
    clientMsgId: row.client_msg_id,
    kind: row.kind,
    body: row.deleted_at ? '' : row.body,
    replyToId: row.reply_to_id,
    createdAt: row.created_at.toISOString(),
    editedAt: row.edited_at ? row.edited_at.toISOString() : null,
    deletedAt: row.deleted_at ? row.deleted_at.toISOString() : null,
    reactions,
    voice,
  };
}
