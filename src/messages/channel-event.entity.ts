import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { bigintToNumber } from '../database/bigint.transformer';

export const EVENT_TYPES = [
  'message.created',
  'message.updated',
  'message.deleted',
  'member.joined',
  'member.left',
  'topic.created',
  'channel.updated',
] as const;
export type ChannelEventType = (typeof EVENT_TYPES)[number];

/** The per-channel, gap-free log of durable changes that backs `/events` and socket `sync`. */
@Entity('channel_events')
// Expression index on (channel_id, data->>'id') for redaction; made by migration 1796000002000.
@Index('ix_channel_events_message', { synchronize: false })
export class ChannelEvent {
  @ForeignKey('Channel', { name: 'fk_channel_events_channel', onDelete: 'CASCADE' })
  @PrimaryColumn({ name: 'channel_id', type: 'uuid' })
  channelId: string;

  @PrimaryColumn({ type: 'bigint', transformer: bigintToNumber })
  seq: number;

  @Column({ name: 'workspace_id', type: 'uuid' })
  workspaceId: string;

  @Column({ type: 'varchar', length: 32 })
  type: ChannelEventType;

  @Column({ type: 'jsonb' })
  data: unknown;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  at: Date;
}
