import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { bigintToNumber } from '../database/bigint.transformer';

export const NOTIFY_LEVELS = ['all', 'mentions', 'none'] as const;
export type NotifyLevel = (typeof NOTIFY_LEVELS)[number];

@Entity('channel_members')
@Index('ix_channel_members_user', ['userId', 'workspaceId'])
export class ChannelMember {
  @ForeignKey('Channel', { name: 'fk_channel_members_channel', onDelete: 'CASCADE' })
  @PrimaryColumn({ name: 'channel_id', type: 'uuid' })
  channelId: string;

  @ForeignKey('User', { name: 'fk_channel_members_user', onDelete: 'CASCADE' })
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ name: 'workspace_id', type: 'uuid' })
  workspaceId: string;

  @Column({ name: 'last_read_seq', type: 'bigint', default: 0, transformer: bigintToNumber })
  lastReadSeq: number;

  /** Null means the default for the channel kind (DMs `all`, others `mentions`). */
  @Column({ name: 'notify_level', type: 'varchar', length: 16, nullable: true })
  notifyLevel: NotifyLevel | null;

  @CreateDateColumn({ name: 'joined_at', type: 'timestamptz' })
  joinedAt: Date;
}
