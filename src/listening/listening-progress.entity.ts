import { Column, Entity, ForeignKey, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** How far a listener has played a voice message (`voice:progress`); never moves back. */
@Entity('listening_progress')
export class ListeningProgress {
  @ForeignKey('Message', { name: 'fk_listening_progress_message', onDelete: 'CASCADE' })
  @PrimaryColumn({ name: 'message_id', type: 'uuid' })
  messageId: string;

  @ForeignKey('User', { name: 'fk_listening_progress_user', onDelete: 'CASCADE' })
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ name: 'position_ms', type: 'integer' })
  positionMs: number;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
