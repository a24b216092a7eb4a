import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';

/** An HTTP endpoint of a workspace that receives the channel events it subscribed to. */
@Entity('webhooks')
@Index('ix_webhooks_workspace', ['workspaceId'])
export class Webhook {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @ForeignKey('Workspace', { name: 'fk_webhooks_workspace', onDelete: 'CASCADE' })
  @Column({ name: 'workspace_id', type: 'uuid' })
  workspaceId: string;

  @Column({ type: 'text' })
  url: string;

  /** `event.type` values this webhook receives. */
  @Column({ type: 'text', array: true })
  events: string[];

  /** HMAC-SHA256 key of `Pigeon-Signature`. */
  @Column({ type: 'varchar', length: 128 })
  secret: string;

  @Column({ name: 'created_by', type: 'uuid' })
  createdBy: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
