import type { ChannelEventType } from './channel-event.entity';
import type { MessageKind } from './message.entity';

// One row type per table the messages feature reads, as node-postgres returns it (bigint as string).

/** `messages` */
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

/** `channel_events` */
export interface ChannelEventRow {
  workspace_id: string;
  channel_id: string;
  seq: string;
  type: ChannelEventType;
  at: Date;
  data: unknown;
}

/**
 * A `channel_events` row as catch-up reads it: the data as Postgres' JSON text and `at` as ISO 8601
 * (what goes on the wire, neither parsed nor re-encoded).
 */
export interface ChannelEventTextRow extends Omit<ChannelEventRow, 'data' | 'at'> {
  data: string;
  at: string;
}

/** A locked `channels` row as the log needs it, with the transaction's now(). */
export interface ChannelHeadRow {
  id: string;
  workspace_id: string;
  head_seq: string;
  now: Date;
}

/** `reactions`, grouped per (message, emoji) in first-reaction order. */
export interface ReactionGroupRow {
  message_id: string;
  emoji: string;
  user_ids: string[];
}
