import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';
import { bigintToNumber } from '../database/bigint.transformer';

export const CHANNEL_KINDS = ['public', 'private', 'direct'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];
export const CHANNEL_MODES = ['chat', 'ptt'] as const;
export type ChannelMode = (typeof CHANNEL_MODES)[number];

@Entity('channels')
@Check('ck_channels_kind', `kind IN ('public','private','direct')`)
@Check('ck_channels_mode', `mode IN ('chat','ptt')`)
@Index('uq_channels_workspace_name', ['workspaceId', 'name'], { unique: true, where: 'name IS NOT NULL' })
@Index('uq_channels_workspace_dm_key', ['workspaceId', 'dmKey'], { unique: true, where: 'dm_key IS NOT NULL' })
export class Channel {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @ForeignKey('Workspace', { name: 'fk_channels_workspace', onDelete: 'CASCADE' })
  @Column({ name: 'workspace_id', type: 'uuid' })
  workspaceId: string;

  /** Null for direct channels, which are named by their members. */
  @Column({ type: 'varchar', length: 80, nullable: true })
  name: string | null;

  @Column({ type: 'varchar', length: 16 })
  kind: ChannelKind;

  /** `ptt`: push-to-talk floor control (src/floor); set by owners/admins. */
  @Column({ type: 'varchar', length: 8, default: 'chat' })
  mode: ChannelMode;

  /** The last seq handed out in this channel; its row lock serializes writers (see ARCHITECTURE.md). */
  @Column({ name: 'head_seq', type: 'bigint', default: 0, transformer: bigintToNumber })
  headSeq: number;

  /** Sorted member ids of a direct channel, so one set of people has one DM. */
  @Column({ name: 'dm_key', type: 'text', nullable: true })
  dmKey: string | null;

  @Column({ name: 'created_by', type: 'uuid' })
  createdBy: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
