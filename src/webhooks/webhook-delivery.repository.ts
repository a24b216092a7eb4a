import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { EventEnvelope } from '../messages/message.view';
import type { DeliveryAttempt, DeliveryStatus } from './webhook-delivery.entity';

/** One row of `webhook_deliveries`. */
export interface WebhookDeliveryRow {
  id: string;
  webhook_id: string;
  workspace_id: string;
  event_type: string;
  payload: EventEnvelope;
  status: DeliveryStatus;
  attempts: DeliveryAttempt[];
  created_at: Date;
  updated_at: Date;
}

/** A delivery with what sending it needs. */
export interface DeliveryToSend extends Pick<WebhookDeliveryRow, 'status' | 'event_type' | 'payload'> {
  url: string;
  secret: string;
  /** The webhook's creator may still read the event's channel. */
  readable: boolean;
}

/** The `webhook_deliveries` table. */
@Injectable()
export class WebhookDeliveryRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Inserts the deliveries not there yet (the id is derived from webhook and event); answers the new ids. */
  async insertMissing(rows: { id: string; webhookId: string; event: { workspaceId: string; type: string } }[]): Promise<Set<string>> {
    // clock_timestamp() rises row by row, so a batch lists newest first in event order too.
    const inserted: { id: string }[] = await this.dataSource.query(
      `INSERT INTO webhook_deliveries (id, webhook_id, workspace_id, event_type, payload, created_at, updated_at)
       SELECT u.id, u.webhook_id, u.workspace_id, u.event_type, u.payload, clock_timestamp(), clock_timestamp()
         FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::jsonb[])
           AS u(id, webhook_id, workspace_id, event_type, payload)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.webhookId),
        rows.map((r) => r.event.workspaceId),
        rows.map((r) => r.event.type),
        rows.map((r) => JSON.stringify(r.event)),
      ],
    );
    return new Set(inserted.map((r) => r.id));
  }

  async forSending(deliveryId: string): Promise<DeliveryToSend | undefined> {
    const rows: DeliveryToSend[] = await this.dataSource.query(
      // `readable`: the webhook's creator may still read the event's channel (a member, or a non-guest
      // for a public channel). Checked when sending too, so a delivery queued before a removal is not sent.
      `SELECT d.status, d.event_type, d.payload, w.url, w.secret,
              EXISTS (
                SELECT 1 FROM workspace_members wm JOIN channels c ON c.workspace_id = wm.workspace_id
                 WHERE wm.workspace_id = w.workspace_id AND wm.user_id = w.created_by
                   AND c.id = (d.payload->>'channelId')::uuid
                   AND (EXISTS (SELECT 1 FROM channel_members cm WHERE cm.channel_id = c.id AND cm.user_id = w.created_by)
                        OR (c.kind = 'public' AND wm.role <> 'guest'))
              ) AS readable
         FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = $1`,
      [deliveryId],
    );
    return rows[0];
  }

  async recordAttempt(deliveryId: string, attempt: DeliveryAttempt, status: DeliveryStatus): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_deliveries SET attempts = attempts || $2::jsonb, status = $3, updated_at = now() WHERE id = $1`,
      [deliveryId, JSON.stringify([attempt]), status],
    );
  }

  /** Ends a delivery that will not be attempted again; one already settled is left alone. */
  async failIfPending(deliveryId: string, note: DeliveryAttempt): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_deliveries SET attempts = attempts || $2::jsonb, status = 'failed', updated_at = now()
        WHERE id = $1 AND status = 'pending'`,
      [deliveryId, JSON.stringify([note])],
    );
  }

  /** The newest 200 of a webhook; events of one commit share a timestamp, their seq keeps the order exact. */
  latest(webhookId: string): Promise<Pick<WebhookDeliveryRow, 'id' | 'event_type' | 'status' | 'attempts' | 'created_at' | 'updated_at'>[]> {
    return this.dataSource.query(
      `SELECT id, event_type, status, attempts, created_at, updated_at FROM webhook_deliveries
        WHERE webhook_id = $1 ORDER BY created_at DESC, (payload->>'seq')::bigint DESC LIMIT 200`,
      [webhookId],
    );
  }

  /** Pending deliveries untouched for `olderThanMs`, oldest first (the sweeper checks their jobs). */
  async stalePending(olderThanMs: number, limit: number): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM webhook_deliveries
        WHERE status = 'pending' AND updated_at < now() - make_interval(secs => $1::double precision / 1000)
        ORDER BY updated_at LIMIT $2`,
      [olderThanMs, limit],
    );
    return rows.map((r) => r.id);
  }
}
