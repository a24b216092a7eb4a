import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  ForeignKey,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

export const VOICE_STATUSES = ['recording', 'processing', 'ready', 'failed'] as const;
export type VoiceStatus = (typeof VOICE_STATUSES)[number];

/** The audio of a voice message: the original upload and its Opus and AAC renditions. */
@Entity('voice_clips')
@Index('uq_voice_clips_message', ['messageId'], { unique: true })
// The abandoned-recording sweeper scans only live recordings.
@Index('ix_voice_clips_recording', ['createdAt'], { where: `status = 'recording'` })
@Check('ck_voice_clips_status', `status IN ('recording','processing','ready','failed')`)
export class VoiceClip {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @ForeignKey('Message', { name: 'fk_voice_clips_message', onDelete: 'CASCADE' })
  @Column({ name: 'message_id', type: 'uuid' })
  messageId: string;

  @Column({ name: 'workspace_id', type: 'uuid' })
  workspaceId: string;

  @Column({ name: 'channel_id', type: 'uuid' })
  channelId: string;

  @Column({ type: 'varchar', length: 16 })
  status: VoiceStatus;

  /** Sniffed from the bytes of the original. */
  @Column({ name: 'mime_type', type: 'varchar', length: 64, nullable: true })
  mimeType: string | null;

  @Column({ name: 'original_key', type: 'text', nullable: true })
  originalKey: string | null;

  @Column({ name: 'opus_key', type: 'text', nullable: true })
  opusKey: string | null;

  @Column({ name: 'aac_key', type: 'text', nullable: true })
  aacKey: string | null;

  @Column({ name: 'duration_ms', type: 'int', nullable: true })
  durationMs: number | null;

  /** 64 peaks, 0..100. */
  @Column({ type: 'int', array: true, nullable: true })
  waveform: number[] | null;

  @Column({ name: 'failure_reason', type: 'text', nullable: true })
  failureReason: string | null;

  /** From TRANSCRIBE_CMD when configured; searched with the message. */
  @Column({ type: 'text', nullable: true })
  transcript: string | null;

  @Column({ name: 'size_bytes', type: 'int', nullable: true })
  sizeBytes: number | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
