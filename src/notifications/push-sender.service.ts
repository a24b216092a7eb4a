import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import webPush from 'web-push';
import { AppConfigService } from '../config/app-config.service';
import { MetricsService } from '../metrics/metrics.service';
import { PresenceService } from '../presence/presence.service';
import type { PushMessageJob } from '../queues/queues';
import { REDIS } from '../redis/redis.module';
import { pinnedDispatcher, targetProblem } from '../webhooks/public-target';
import { fetch } from 'undici';
import { PushRecipientRepository } from './push-recipient.repository';
import { PushSubscriptionRepository } from './push-subscription.repository';
import { mentionedUserIds, PushPayload, pushBody, pushTitle } from './push-content';
import { VapidKeys, VapidKeysService } from './vapid-keys.service';

/** Sends to one push service at a time per job beyond this many. */
const SEND_CONCURRENCY = 16;
const SEND_TIMEOUT_MS = 10_000;
/** How long a sent (job, subscription) pair is remembered; longer than every retry of a job. */
const SENT_TTL_SECONDS = 86400;
/** Deletes KEYS[1] only if it still holds ARGV[1] (this attempt's claim, never another run's). */
const RELEASE_CLAIM = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

type Subscription = Awaited<ReturnType<PushSubscriptionRepository['activeOf']>>[number];

type Outcome = 'sent' | 'gone' | 'refused';

/** A 429, a 5xx, a timeout or a network error: worth another attempt later. */
export class PushRetryable extends Error {
  override name = 'PushRetryable';
}

/**
 * Worker side of push: who gets a notification for a new message, and sending it. Recipients are the
 * channel's members but the author whose level admits the message, with no live socket right now,
 * and with a subscription. Each (job, subscription) is claimed in Redis (`SET NX`) before the send,
 * so a job that runs again (retry, stalled worker) never notifies a device twice; the price is that
 * a crash between the claim and the send loses that one notification.
 */
@Injectable()
export class PushSenderService {
  private readonly logger = new Logger(PushSenderService.name);

  constructor(
    private readonly recipients: PushRecipientRepository,
    private readonly subscriptions: PushSubscriptionRepository,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly presence: PresenceService,
    private readonly vapid: VapidKeysService,
    private readonly config: AppConfigService,
    private readonly metrics: MetricsService,
  ) {}

  private pinned: ReturnType<typeof pinnedDispatcher> | undefined;

  private dispatcher() {
    return (this.pinned ??= pinnedDispatcher(this.config.get('ALLOW_PRIVATE_TARGETS')));
  }

  /** Throws PushRetryable when some sends should be tried again (only those are, on the next run). */
  async send(job: PushMessageJob, jobId: string): Promise<void> {
    const keys = await this.vapid.keys();
    if (!keys) return;
    const message = await this.recipients.message(job.messageId);
    // Gone or deleted before the worker got to it: nothing worth a notification.
    if (!message || message.deleted_at || message.kind === 'system') return;

    const mentioned = mentionedUserIds(message.body);
    const candidates = await this.recipients.candidates(job.channelId, message.author_id, message.channel_kind, mentioned);
    if (candidates.length === 0) return;
    const online = await this.presence.withLiveSocket(candidates);
    const recipients = candidates.filter((id) => !online.has(id));
    if (recipients.length === 0) return;
    const subscriptions: Subscription[] = await this.subscriptions.activeOf(recipients);
    if (subscriptions.length === 0) return;

    // Only people of this workspace get their name shown; any other id stays as written.
    const names = mentioned.length > 0 ? await this.recipients.namesInWorkspace(mentioned, job.workspaceId) : new Map<string, string>();
    const payload: PushPayload = {
      type: 'message',
      workspaceId: job.workspaceId,
      channelId: job.channelId,
      messageId: job.messageId,
      title: pushTitle(message.author_name, { kind: message.channel_kind, name: message.channel_name }),
      body: pushBody({ kind: message.kind, body: message.body, durationMs: message.duration_ms }, names),
    };
    const text = JSON.stringify(payload);

    const failures: string[] = [];
    await forEachLimited(subscriptions, SEND_CONCURRENCY, async (subscription) => {
      const claim = `push:sent:${jobId}:${subscription.id}`;
      const token = randomUUID();
      const release = () => this.redis.eval(RELEASE_CLAIM, 1, claim, token);
      let claimed: boolean;
      try {
        claimed = (await this.redis.set(claim, token, 'EX', SENT_TTL_SECONDS, 'NX')) !== null;
      } catch (error) {
        // A timed-out SET may still run once a paused Redis resumes: without this release its claim
        // would make the job's next attempt skip a push that was never sent. Same connection, so the
        // release runs after it.
        void release().catch(() => undefined);
        throw error;
      }
      if (!claimed) return;
      try {
        const outcome = await this.deliver(subscription, text, keys);
        this.metrics.pushOutcome(outcome);
        if (outcome === 'gone') {
          await this.subscriptions.remove(subscription.id);
        }
      } catch (error) {
        // Released so the next run of the job tries this subscription again.
        await release();
        this.metrics.pushOutcome('retry');
        failures.push(error instanceof Error ? error.message : String(error));
      }
    });
    if (failures.length > 0) {
      throw new PushRetryable(`${failures.length} of ${subscriptions.length} push sends failed: ${failures[0]}`);
    }
  }

  /** One encrypted (aes128gcm) and VAPID-signed POST to the push service. */
  private async deliver(subscription: Subscription, payload: string, keys: VapidKeys): Promise<Outcome> {
    // Re-checked at send time: the name may resolve elsewhere now (DNS rebinding).
    const problem = await targetProblem(subscription.endpoint, this.config.get('ALLOW_PRIVATE_TARGETS'));
    if (problem) {
      this.logger.warn({ subscriptionId: subscription.id, problem }, 'Push endpoint refused');
      return 'refused';
    }
    const request = webPush.generateRequestDetails(
      { endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dh, auth: subscription.auth } },
      payload,
      {
        vapidDetails: { subject: keys.subject, publicKey: keys.publicKey, privateKey: keys.privateKey },
        TTL: this.config.get('PUSH_TTL_SECONDS'),
        contentEncoding: 'aes128gcm',
        urgency: 'high',
      },
    );
    // fetch, not web-push's own sender: it speaks https only (the tests' receivers are http on loopback),
    // and this way redirects are refused and the timeout covers the whole exchange, as for webhooks.
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (name.toLowerCase() !== 'content-length') headers[name] = String(value);
    }
    let status: number;
    try {
      const response = await fetch(request.endpoint, {
        method: 'POST',
        headers,
        body: request.body,
        redirect: 'manual',
        // Connects only to the addresses it checked: no rebinding between the check and the connection.
        dispatcher: this.dispatcher(),
        signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      });
      status = response.status;
      await response.body?.cancel().catch(() => undefined);
    } catch (error) {
      throw new PushRetryable(error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : describe(error));
    }
    if (status >= 200 && status < 300) return 'sent';
    // The subscription expired or was revoked: RFC 8030 §7.3.
    if (status === 404 || status === 410) return 'gone';
    if (status === 429 || status >= 500) throw new PushRetryable(`HTTP ${status}`);
    // 400, 401/403 (e.g. a subscription made with another VAPID key), 413...: retrying will not help.
    this.logger.warn({ subscriptionId: subscription.id, status }, 'Push service refused the notification');
    return 'refused';
  }
}

async function forEachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(lanes);
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? error.message;
}
