import type { Channel, ChannelListItem as WireChannelListItem, Topic } from '../protocol/wire';
import type { ChannelKind, ChannelMode } from './channel.entity';

// The wire shapes live in src/protocol (shared with the SDK); these names are the server's.
/** The contract's channel shape. */
export type ChannelView = Channel;
/** A row of GET /channels: the channel plus the caller's read state. */
export type ChannelListItem = WireChannelListItem;
/** The contract's topic shape. */
export type TopicView = Topic;

export interface ChannelRow {
  id: string;
  workspace_id: string;
  name: string | null;
  kind: ChannelKind;
  mode: ChannelMode;
  head_seq: string | number;
  created_at: Date;
}

export interface TopicRow {
  id: string;
  channel_id: string;
  workspace_id: string;
  title: string;
  created_by: string;
  created_at: Date;
  last_activity_at: Date;
}

export function toChannelView(row: ChannelRow): ChannelView {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    kind: row.kind,
    mode: row.mode,
    createdAt: row.created_at.toISOString(),
    headSeq: Number(row.head_seq),
  };
}

export function toTopicView(row: TopicRow): TopicView {
  return {
    id: row.id,
    channelId: row.channel_id,
    workspaceId: row.workspace_id,
    title: row.title,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    lastActivityAt: row.last_activity_at.toISOString(),
  };
}

/** One set of people has one DM per workspace: the key is their sorted, distinct ids. */
export function directMessageKey(userIds: readonly string[]): string {
  return [...new Set(userIds.map((id) => id.toLowerCase()))].sort().join(',');
}
