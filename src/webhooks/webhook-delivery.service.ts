import { Injectable } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { AppConfigService } from '../config/app-config.service';
import { MetricsService } from '../metrics/metrics.service';
import { fetch } from 'undici';
import { pinnedDispatcher, targetProblem } from './public-target';
import type { DeliveryAttempt, DeliveryStatus } from './webhook-delivery.entity';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';

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
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly config: AppConfigService,
    private readonly metrics: MetricsService,
  ) {}

  private pinned: ReturnType<typeof pinnedDispatcher> | undefined;

  private dispatcher() {
    return (this.pinned ??= pinnedDispatcher(this.config.get('ALLOW_PRIVATE_TARGETS')));
  }

  /** Throws DeliveryFailed when the attempt failed, so BullMQ retries; marks `failed` on the last one. */
  async attempt(deliveryId: string, isLastAttempt: boolean): Promise<void> {
    const found = await this.deliveries.forSending(deliveryId);
    // Gone (webhook deleted) or already settled by an earlier run of this job: nothing to do.
    if (!found || found.status !== 'pending') return;
    const { event_type: eventType, payload, url, secret, readable } = found;
    if (!readable) {
      const skipped: DeliveryAttempt = { at: new Date().toISOString(), statusCode: null, error: 'not visible to the webhook owner', durationMs: 0 };
      await this.deliveries.recordAttempt(deliveryId, skipped, 'failed');
      this.metrics.webhookOutcome('skipped');
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
    await this.deliveries.recordAttempt(deliveryId, attempt, status);
    this.metrics.webhookOutcome(ok ? 'delivered' : isLastAttempt ? 'failed' : 'retry');
    if (!ok) throw new DeliveryFailed(attempt.error ?? `HTTP ${attempt.statusCode}`);
  }

  /**
   * A job BullMQ will not run again (attempts used up on an error that was not a failed send, or
   * stalled too often) still ends its delivery: it never stays `pending`.
   */
  async giveUp(deliveryId: string, reason: string): Promise<void> {
    await this.deliveries.failIfPending(deliveryId, { at: new Date().toISOString(), statusCode: null, error: reason.slice(0, 500), durationMs: 0 });
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? error.message;
}
