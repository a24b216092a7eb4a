import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';
import { bigintToNumber } from '../database/bigint.transformer';

export const MESSAGE_KINDS = ['text', 'voice', 'system'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

@Entity('messages')
@Index('uq_messages_channel_seq', ['channelId', 'seq'], { unique: true })
/** Idempotency key, forever: a retried send finds the first message. */
@Index('uq_messages_author_channel_client_msg', ['authorId', 'channelId', 'clientMsgId'], { unique: true })
@Index('ix_messages_topic_seq', ['topicId', 'seq'], { where: 'topic_id IS NOT NULL' })
export class Message {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'workspace_id', type: 'uuid' })
  workspaceId: string;

  @ForeignKey('Channel', { name: 'fk_messages_channel', onDelete: 'CASCADE' })
  @Column({ name: 'channel_id', type: 'uuid' })
  channelId: string;

  @Column({ name: 'topic_id', type: 'uuid', nullable: true })
  topicId: string | null;

  /** The seq of the message.created event. */
  @Column({ type: 'bigint', transformer: bigintToNumber })
  seq: number;

  @Column({ name: 'author_id', type: 'uuid' })
  authorId: string;

  @Column({ name: 'client_msg_id', type: 'varchar', length: 64 })
  clientMsgId: string;

  @Column({ type: 'varchar', length: 16 })
  kind: MessageKind;

  @Column({ type: 'text' })
  body: string;

  @Column({ name: 'reply_to_id', type: 'uuid', nullable: true })
  replyToId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'edited_at', type: 'timestamptz', nullable: true })
  editedAt: Date | null;

  /** Maintained by database triggers (migration 1796000008000-search); GIN-indexed, never written by the app. */
  @Index('ix_messages_search', { synchronize: false })
  @Column({ name: 'search_vector', type: 'tsvector', nullable: true, select: false, insert: false, update: false })
  searchVector: string | null;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;
}
