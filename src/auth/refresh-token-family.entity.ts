import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One login session: every refresh token rotated from one login shares a family. */
@Entity('refresh_token_families')
export class RefreshTokenFamily {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('ix_refresh_families_user')
  @ForeignKey('User', { name: 'fk_refresh_families_user', onDelete: 'CASCADE' })
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
