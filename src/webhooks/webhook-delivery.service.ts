import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHmac } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AppConfigService } from '../config/app-config.service';
import type { EventEnvelope } from '../messages/message.view';
import { fetch } from 'undici';
import { pinnedDispatcher, targetProblem } from './public-target';
import type { DeliveryAttempt, DeliveryStatus } from './webhook-delivery.entity';

const ONE_HOUR_MS = 3_600_000;

/** Retry delay after `attemptsMade` failures: doubling from `base`, ±20 % jitter, capped at 1 h. */
export function webhookBackoff(attemptsMade: number, base: number): number {
  const exponential = base * 2 ** Math.max(0, attemptsMade - 1);
  return Math.round(Math.min(ONE_HOUR_MS, exponential * (0.8 + Math.random() * 0.4)));
}

export function signature(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class DeliveryFailed extends Error {
  override name = 'DeliveryFailed';
}

/** Sends one delivery attempt and records it (worker side). */
@Injectable()
export class WebhookDeliveryService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfigService,
  ) {}

  private pinned: ReturnType<typeof pinnedDispatcher> | undefined;

  private dispatcher() {
    return (this.pinned ??= pinnedDispatcher(this.config.get('ALLOW_PRIVATE_TARGETS')));
  }

  /** Throws DeliveryFailed when the attempt failed, so BullMQ retries; marks `failed` on the last one. */
  async attempt(deliveryId: string, isLastAttempt: boolean): Promise<void> {
    const rows: {
      status: DeliveryStatus;
      event_type: string;
      payload: EventEnvelope;
      url: string;
      secret: string;
      readable: boolean;
    }[] = await this.dataSource.query(
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
    // Gone (webhook deleted) or already settled by an earlier run of this job: nothing to do.
    if (rows.length === 0 || rows[0].status !== 'pending') return;
    const { event_type: eventType, payload, url, secret, readable } = rows[0];
    if (!readable) {
      const skipped: DeliveryAttempt = { at: new Date().toISOString(), statusCode: null, error: 'not visible to the webhook owner', durationMs: 0 };
      await this.dataSource.query(
        `UPDATE webhook_deliveries SET attempts = attempts || $2::jsonb, status = 'failed', updated_at = now() WHERE id = $1`,
        [deliveryId, JSON.stringify([skipped])],
      );
      return;
    }
    // Fields in contract order (jsonb does not keep key order); `voice.listened` is not a channel envelope.
    const listened = payload as unknown as { messageId: string; userId: string };
    const body = JSON.stringify(
      eventType === 'voice.listened'
        ? {
            type: payload.type,
            workspaceId: payload.workspaceId,
            channelId: payload.channelId,
            messageId: listened.messageId,
            userId: listened.userId,
            at: payload.at,
          }
        : {
            workspaceId: payload.workspaceId,
            channelId: payload.channelId,
            seq: payload.seq,
            type: payload.type,
            at: payload.at,
            data: payload.data,
          },
    );
    const startedAt = new Date();
    const attempt: DeliveryAttempt = { at: startedAt.toISOString(), statusCode: null, error: null, durationMs: 0 };
    // Re-checked at send time too: the name may resolve elsewhere now (DNS rebinding).
    const problem = await targetProblem(url, this.config.get('ALLOW_PRIVATE_TARGETS'));
    if (problem) {
      attempt.error = problem;
    } else {
      const timestamp = Math.floor(startedAt.getTime() / 1000);
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Pigeon-Webhooks/1',
            'pigeon-event': eventType,
            'pigeon-delivery': deliveryId,
            'pigeon-signature': signature(secret, timestamp, body),
          },
          body,
          // Redirects are not followed: a 3xx is a failed attempt, never a hop to another host.
          redirect: 'manual',
          // Connects only to the addresses it checked: no rebinding between the check and the connection.
          dispatcher: this.dispatcher(),
          signal: AbortSignal.timeout(this.config.get('WEBHOOK_TIMEOUT_MS')),
        });
        attempt.statusCode = response.status;
        await response.body?.cancel().catch(() => undefined);
      } catch (error) {
        attempt.error = error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : describe(error);
      }
    }
    attempt.durationMs = Date.now() - startedAt.getTime();
    const ok = attempt.statusCode !== null && attempt.statusCode >= 200 && attempt.statusCode < 300;
    const status: DeliveryStatus = ok ? 'delivered' : isLastAttempt ? 'failed' : 'pending';
    await this.dataSource.query(
      `UPDATE webhook_deliveries SET attempts = attempts || $2::jsonb, status = $3, updated_at = now() WHERE id = $1`,
      [deliveryId, JSON.stringify([attempt]), status],
    );
    if (!ok) throw new DeliveryFailed(attempt.error ?? `HTTP ${attempt.statusCode}`);
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? error.message;
}
