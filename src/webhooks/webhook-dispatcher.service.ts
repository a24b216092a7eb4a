import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AppConfigService } from '../config/app-config.service';
import { AccessService } from '../access/access.service';
import { FanoutService } from '../fanout/fanout.service';
import type { EventEnvelope } from '../messages/message.view';
import { QUEUES, WEBHOOK_BACKOFF_TYPE, WEBHOOK_DELIVERY_JOB, WebhookDeliveryJob } from '../queues/queues';
import { runAsSystem } from '../tenancy/tenant-context';

interface WebhookTarget {
  id: string;
  events: Set<string>;
  /** A webhook sees what its creator may read, never more (DMs and private channels of others stay out). */
  createdBy: string;
}

const CACHE_TTL_MS = 10_000;

/** A stable id per (webhook, event): enqueueing the same event twice hits the same row and job. */
export function deliveryId(webhookId: string, event: EventEnvelope): string {
  const hex = createHash('sha256').update(`${webhookId}:${event.channelId}:${event.seq}`).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Turns committed channel events into webhook deliveries: a row per (event, matching webhook) and a
 * BullMQ job with the same id. Runs in the API and in the worker (voice status events come from there).
 * Every committed channel event reaches it through FanoutService.onCommitted. A crash between commit
 * and enqueue loses those deliveries (no outbox yet).
 */
@Injectable()
export class WebhookDispatcher implements OnModuleInit {
  private readonly logger = new Logger(WebhookDispatcher.name);
  /** Per-workspace webhooks, kept briefly so the hot path does not query Postgres per event. */
  private readonly cache = new Map<string, { loadedAt: number; targets: Promise<WebhookTarget[]> }>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(QUEUES.webhooks) private readonly queue: Queue<WebhookDeliveryJob>,
    private readonly fanout: FanoutService,
    private readonly config: AppConfigService,
    private readonly access: AccessService,
  ) {}

  onModuleInit(): void {
    this.fanout.onCommitted((events) => {
      // After commit, for the events' workspaces (which a member who just left no longer sees), into a
      // per-node cache of targets shared by every caller: a named cross-tenant scope.
      runAsSystem('webhooks.dispatch', () => this.dispatch(events)).catch((error: unknown) => this.logger.error({ err: error }, 'Webhook enqueue failed'));
    });
  }

  /** Drops this node's cached webhooks of a workspace (after a change made here). */
  forget(workspaceId: string): void {
    this.cache.delete(workspaceId);
  }

  async dispatch(events: EventEnvelope[]): Promise<void> {
    const rows: { id: string; webhookId: string; event: EventEnvelope }[] = [];
    for (const workspaceId of new Set(events.map((e) => e.workspaceId))) {
      const targets = await this.targets(workspaceId);
      if (targets.length === 0) continue;
      for (const event of events) {
        if (event.workspaceId !== workspaceId) continue;
        for (const target of targets) {
          if (!target.events.has(event.type)) continue;
          // Answered from the per-node membership cache: no query per event.
          if (!(await this.access.canReadChannel(event.channelId, target.createdBy, workspaceId))) continue;
          rows.push({ id: deliveryId(target.id, event), webhookId: target.id, event });
        }
      }
    }
    if (rows.length === 0) return;
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
    const fresh = new Set(inserted.map((r) => r.id));
    const backoffBase = this.config.get('WEBHOOK_BACKOFF_BASE_MS');
    await this.queue.addBulk(
      rows
        .filter((r) => fresh.has(r.id))
        .map((r) => ({
          name: WEBHOOK_DELIVERY_JOB,
          data: { deliveryId: r.id },
          opts: {
            jobId: r.id,
            attempts: this.config.get('WEBHOOK_MAX_ATTEMPTS'),
            backoff: { type: WEBHOOK_BACKOFF_TYPE, delay: backoffBase },
            // The delivery log lives in Postgres; Redis keeps only a short tail for inspection.
            removeOnComplete: { age: 3600, count: 1000 },
            removeOnFail: { age: 7 * 86400, count: 5000 },
          },
        })),
    );
  }

  private targets(workspaceId: string): Promise<WebhookTarget[]> {
    const cached = this.cache.get(workspaceId);
    if (cached && Date.now() - cached.loadedAt < CACHE_TTL_MS) return cached.targets;
    const targets = this.dataSource
      .query('SELECT id, events, created_by FROM webhooks WHERE workspace_id = $1', [workspaceId])
      .then((list: { id: string; events: string[]; created_by: string }[]) =>
        list.map((w) => ({ id: w.id, events: new Set(w.events), createdBy: w.created_by })),
      );
    // A failed load is not cached: the next event tries again.
    targets.catch(() => this.cache.delete(workspaceId));
    this.cache.set(workspaceId, { loadedAt: Date.now(), targets });
    return targets;
  }
}
