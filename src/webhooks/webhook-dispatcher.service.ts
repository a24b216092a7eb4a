import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { createHash } from 'node:crypto';
import { AppConfigService } from '../config/app-config.service';
import { AccessService } from '../access/access.service';
import { EVENT_TYPES } from '../messages/channel-event.entity';
import type { EventEnvelope } from '../messages/message.view';
import { QUEUES, WEBHOOK_BACKOFF_TYPE, WEBHOOK_DELIVERY_JOB, WebhookDeliveryJob } from '../queues/queues';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { WebhookRepository } from './webhook.repository';

interface WebhookTarget {
  id: string;
  events: Set<string>;
  /** A webhook sees what its creator may read, never more (DMs and private channels of others stay out). */
  createdBy: string;
}


/**
 * What a webhook receives: a committed channel event, or `voice.listened` (src/listening), which takes no
 * seq and is keyed by (message, listener) instead.
 */
export type WebhookEvent =
  | EventEnvelope
  | { type: 'voice.listened'; workspaceId: string; channelId: string; messageId: string; userId: string; at: string };

/** Event types a webhook may subscribe to. */
export const WEBHOOK_EVENT_TYPES = [...EVENT_TYPES, 'voice.listened'] as const;

/** A stable id per (webhook, event): enqueueing the same event twice hits the same row and job. */
export function deliveryId(webhookId: string, event: WebhookEvent): string {
  const key = 'seq' in event ? `${event.channelId}:${event.seq}` : `${event.type}:${event.messageId}:${event.userId}`;
  const hex = createHash('sha256').update(`${webhookId}:${key}`).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Turns committed channel events into webhook deliveries: a row per (event, matching webhook) and a
 * BullMQ job with the same id. Called by the outbox relay (API and worker), which retries a failed
 * call, so a call may repeat: the rows collapse on their id and the jobs on theirs.
 */
@Injectable()
export class WebhookDispatcher {
  private readonly logger = new Logger(WebhookDispatcher.name);

  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly deliveries: WebhookDeliveryRepository,
    @InjectQueue(QUEUES.webhooks) private readonly queue: Queue<WebhookDeliveryJob>,
    private readonly config: AppConfigService,
    private readonly access: AccessService,
  ) {}

  /** Throws when a row or a job could not be written: the relay calls again later. */
  async dispatch(events: WebhookEvent[]): Promise<void> {
    const rows: { id: string; webhookId: string; event: WebhookEvent }[] = [];
    const workspaceIds = [...new Set(events.map((e) => e.workspaceId))];
    // Read per relay batch, not cached: the relay may run in another process than the one where a
    // webhook was just created, and an event committed after the creation must reach it.
    const targetsOf = await this.targets(workspaceIds);
    for (const workspaceId of workspaceIds) {
      const targets = targetsOf.get(workspaceId) ?? [];
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
    await this.deliveries.insertMissing(rows);
    // Every row is enqueued, not only the new ones: a repeat call after a failed enqueue must queue
    // the rows the first call inserted. An existing job id is a no-op; a settled delivery's job ends at once.
    await this.enqueue(rows.map((r) => r.id));
  }

  async enqueue(ids: string[]): Promise<void> {
    const backoffBase = this.config.get('WEBHOOK_BACKOFF_BASE_MS');
    await this.queue.addBulk(
      ids.map((id) => ({
        name: WEBHOOK_DELIVERY_JOB,
        data: { deliveryId: id },
        opts: {
          jobId: id,
          attempts: this.config.get('WEBHOOK_MAX_ATTEMPTS'),
          backoff: { type: WEBHOOK_BACKOFF_TYPE, delay: backoffBase },
          // The delivery log lives in Postgres; Redis keeps only a short tail for inspection.
          removeOnComplete: { age: 3600, count: 1000 },
          removeOnFail: { age: 7 * 86400, count: 5000 },
        },
      })),
    );
  }

  /**
   * Pending deliveries untouched for `olderThanMs` whose job is gone get it back; those whose job
   * failed for good are marked failed. A waiting, delayed or active job is left to run.
   */
  async sweep(olderThanMs: number, limit = 500): Promise<{ requeued: number; failed: number }> {
    const stale = await this.deliveries.stalePending(olderThanMs, limit);
    const missing: string[] = [];
    let failed = 0;
    for (const id of stale) {
      const job = await this.queue.getJob(id);
      const state = job ? await job.getState() : 'unknown';
      if (state === 'unknown' || state === 'completed') missing.push(id);
      else if (state === 'failed') {
        await this.deliveries.failIfPending(id, { at: new Date().toISOString(), statusCode: null, error: job?.failedReason?.slice(0, 500) ?? 'job failed', durationMs: 0 });
        failed++;
      }
    }
    if (missing.length > 0) {
      // A completed job of a pending delivery ended without settling it: remove it so the id is free again.
      for (const id of missing) await (await this.queue.getJob(id))?.remove();
      await this.enqueue(missing);
      this.logger.warn(`Re-queued ${missing.length} webhook deliveries whose job was lost`);
    }
    return { requeued: missing.length, failed };
  }

  private async targets(workspaceIds: string[]): Promise<Map<string, WebhookTarget[]>> {
    const byWorkspace = new Map<string, WebhookTarget[]>();
    for (const w of await this.webhooks.forWorkspaces(workspaceIds)) {
      const list = byWorkspace.get(w.workspace_id) ?? [];
      list.push({ id: w.id, events: new Set(w.events), createdBy: w.created_by });
      byWorkspace.set(w.workspace_id, list);
    }
    return byWorkspace;
  }
}
