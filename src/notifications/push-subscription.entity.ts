import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A browser's Web Push subscription (RFC 8030 endpoint plus RFC 8291 keys), owned by the user who last registered it. */
@Entity('push_subscriptions')
@Index('uq_push_subscriptions_endpoint', ['endpoint'], { unique: true })
@Index('ix_push_subscriptions_user', ['userId'])
export class PushSubscription {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @ForeignKey('User', { name: 'fk_push_subscriptions_user', onDelete: 'CASCADE' })
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  /** The push service's capability URL; one browser profile has one, so it is the upsert key. */
  @Column({ type: 'text' })
  endpoint: string;

  /** The user agent's ECDH P-256 public key, base64url (65 bytes uncompressed). */
  @Column({ type: 'varchar', length: 128 })
  p256dh: string;

  /** The 16-byte authentication secret, base64url. */
  @Column({ type: 'varchar', length: 64 })
  auth: string;

  /** When the push service will expire the subscription, if the browser said. */
  @Column({ name: 'expiration_time', type: 'timestamptz', nullable: true })
  expirationTime: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
