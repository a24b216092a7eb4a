import { CreateDateColumn, Entity, ForeignKey, PrimaryColumn } from 'typeorm';

/** A listen receipt: who has played a voice message, once per user. */
@Entity('voice_listens')
export class VoiceListen {
  @ForeignKey('Message', { name: 'fk_voice_listens_message', onDelete: 'CASCADE' })
  @PrimaryColumn({ name: 'message_id', type: 'uuid' })
  messageId: string;

  @ForeignKey('User', { name: 'fk_voice_listens_user', onDelete: 'CASCADE' })
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  @CreateDateColumn({ name: 'listened_at', type: 'timestamptz' })
  listenedAt: Date;
}
