import type { Message, Reaction, Voice } from '../protocol/wire';
import type { ChannelEventType } from './channel-event.entity';
import { RawJson } from '../common/raw-json';
import type { ChannelEventTextRow, MessageRow } from './message.rows';

export type { MessageRow } from './message.rows';

// The wire shapes live in src/protocol (shared with the SDK); these names are the server's.
export type ReactionView = Reaction;
export type VoiceView = Voice;
/** The contract's message shape. */
export type MessageView = Message;

/** The `event` envelope, as stored in channel_events and sent to sockets. */
export interface EventEnvelope {
  workspaceId: string;
  channelId: string;
  seq: number;
  type: ChannelEventType;
  at: string;
  data: unknown;
}

/** A stored channel event (channel_events row) as it goes on the wire. */
export function toEventEnvelope(row: {
  workspace_id: string;
  channel_id: string;
  seq: string | number;
  type: ChannelEventType;
  at: Date;
  data: unknown;
}): EventEnvelope {
  return { workspaceId: row.workspace_id, channelId: row.channel_id, seq: Number(row.seq), type: row.type, at: row.at.toISOString(), data: row.data };
}

/** A catch-up row as it goes on the wire: the stored JSON text spliced in as it is (see RawJson). */
export function toRawEventEnvelope(row: ChannelEventTextRow): EventEnvelope {
  return { workspaceId: row.workspace_id, channelId: row.channel_id, seq: Number(row.seq), type: row.type, at: row.at, data: new RawJson(row.data) };
}

/** An envelope of toRawEventEnvelope with its data parsed, for anything but a socket (REST bodies). */
export function parsedEventEnvelope(event: EventEnvelope): EventEnvelope {
  return event.data instanceof RawJson ? { ...event, data: event.data.parsed } : event;
}

/** The one place a message row becomes the contract's shape (views and event snapshots alike). */
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
    // A deleted voice message keeps no voice: its files are removed and its audio answers 404.
    voice: row.deleted_at ? null : voice,
  };
}
