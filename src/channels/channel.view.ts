import type {
  Channel as WireChannel,
  ChannelListItem as WireChannelListItem,
  Topic as WireTopic,
} from '../protocol/wire';
import type { Channel } from './channel.entity';
import type { ChannelListRow } from './channels.repository';
import type { Topic } from './topic.entity';

// The wire shapes live in src/protocol (shared with the SDK); these names are the server's.
/** The contract's channel shape. */
export type ChannelView = WireChannel;
/** A row of GET /channels: the channel plus the caller's read state. */
export type ChannelListItem = WireChannelListItem;
/** The contract's topic shape. */
export type TopicView = WireTopic;

/** The one place a channel becomes its contract shape (REST answers, list rows, DMs). */
export function toChannelView(channel: Channel): ChannelView {
  return {
    id: channel.id,
    workspaceId: channel.workspaceId,
    name: channel.name,
    kind: channel.kind,
    mode: channel.mode,
    createdAt: channel.createdAt.toISOString(),
    headSeq: channel.headSeq,
  };
}

export function toChannelListItem(row: ChannelListRow): ChannelListItem {
  return {
    ...toChannelView(row.channel),
    lastReadSeq: row.lastReadSeq,
    unreadCount: row.unreadCount,
    unheardCount: row.unheardCount,
    unheardTopics: row.unheardTopics,
    isMember: row.isMember,
  };
}

export function toTopicView(topic: Topic): TopicView {
  return {
    id: topic.id,
    channelId: topic.channelId,
    workspaceId: topic.workspaceId,
    title: topic.title,
    createdBy: topic.createdBy,
    createdAt: topic.createdAt.toISOString(),
    lastActivityAt: topic.lastActivityAt.toISOString(),
  };
}

/** One set of people has one DM per workspace: the key is their sorted, distinct ids. */
export function directMessageKey(userIds: readonly string[]): string {
  return [...new Set(userIds.map((id) => id.toLowerCase()))].sort().join(',');
}
