import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface DeliveryAttempt {
  at: string;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** One event sent to one webhook, with every attempt; the id is the `Pigeon-Delivery` header. */
@Entity('webhook_deliveries')
@Index('ix_webhook_deliveries_webhook_created', ['webhookId', 'createdAt'])
// Expression index on (workspace_id, payload->'data'->>'id') for redaction; made by migration 1796000002000.
@Index('ix_webhook_deliveries_message', { synchronize: false })
@Check('ck_webhook_deliveries_status', `status IN ('pending','delivered','failed')`)
export class WebhookDelivery {
  /** Derived from (webhook, channel, seq), so enqueueing the same event twice collapses. */
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @ForeignKey('Webhook', { name: 'fk_webhook_deliveries_webhook', onDelete: 'CASCADE' })
  @Column({ name: 'webhook_id', type: 'uuid' })
  webhookId: string;

  @Column({ name: 'workspace_id', type: 'uuid' })
  workspaceId: string;

  @Column({ name: 'event_type', type: 'varchar', length: 32 })
  eventType: string;

  /** The event envelope as sent. */
  @Column({ type: 'jsonb' })
  payload: unknown;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status: DeliveryStatus;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  attempts: DeliveryAttempt[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
