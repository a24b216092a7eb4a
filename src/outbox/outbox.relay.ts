import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfigService } from '../config/app-config.service';
import { EventsCommittedHandler, OnEventsCommitted } from '../fanout/events-committed';
import { toEventEnvelope, type EventEnvelope } from '../messages/message.view';
import { PushDispatcher } from '../notifications/push-dispatcher.service';
import { WebhookDispatcher } from '../webhooks/webhook-dispatcher.service';
import { OutboxRepository, OutboxRow } from './outbox.repository';
import { VoiceJobDispatcher } from './voice-job.dispatcher';
import { runAsSystem } from '../tenancy/tenant-context';

const BATCH = 200;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/**
 * Under steady commits the next run waits this long, so its claim takes what several commits wrote:
 * a relay run costs about as many statements as a send's own transaction, so one run per commit would
 * double the database work of the write path. The first commit after a quiet spell is relayed at once.
 */
const COALESCE_MS = 50;

/** Delay before a row that failed `attempts` times is due again: doubling, ±20 % jitter, capped. */
export function outboxBackoff(attempts: number): number {
  const exponential = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(exponential * (0.8 + Math.random() * 0.4));
}

class RelayTimeout extends Error {
  override name = 'RelayTimeout';
}

/**
 * Moves outbox rows to BullMQ, at least once: claim (SKIP LOCKED, with a lease), run the side effect,
 * delete. A side effect that fails (Redis down or paused, Postgres error) leaves its rows for a later
 * try with backoff; a relay that dies leaves them to the lease. Repeats are harmless: deliveries and
 * jobs carry ids derived from the event or the voice. Runs in every API node and the worker; it wakes
 * after each local commit (as an events-committed handler) and polls for the rest (other processes' commits,
 * retries, expired leases).
 */
@Injectable()
@EventsCommittedHandler()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy, OnEventsCommitted {
  private readonly logger = new Logger(OutboxRelay.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private enabled = false;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly webhooks: WebhookDispatcher,
    private readonly push: PushDispatcher,
    private readonly voice: VoiceJobDispatcher,
    private readonly config: AppConfigService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.get('OUTBOX_RELAY')) return;
    this.enabled = true;
    this.timer = setInterval(() => this.wake(), this.config.get('OUTBOX_POLL_MS'));
    this.timer.unref();
    this.wake();
  }

  onEventsCommitted(): void {
    this.wake();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Runs the relay now, or once more right after the run in progress. */
  wake(): void {
    // Off in this process (OUTBOX_RELAY=false): another process relays, on its poll.
    if (this.stopped || !this.enabled) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => (this.running = null));
  }

  private drain(): Promise<void> {
    // Rows of every workspace, whoever's commit woke the relay: a named cross-tenant scope.
    return runAsSystem('outbox.relay', () => this.drainAll());
  }

  private async drainAll(): Promise<void> {
    do {
      this.again = false;
      try {
        const claimed = await this.relayOnce();
        if (claimed >= BATCH) this.again = true;
        else if (this.again && claimed > 0) await new Promise((resolve) => setTimeout(resolve, COALESCE_MS));
      } catch (error) {
        // Claiming failed (Postgres down): the next poll tries again.
        this.logger.warn(`Outbox relay: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
    } while (this.again && !this.stopped);
  }

  /** One claim and its side effects; answers how many rows it claimed. */
  async relayOnce(): Promise<number> {
    const leaseMs = this.config.get('OUTBOX_LEASE_MS');
    const rows = await this.outbox.claim(BATCH, leaseMs);
    if (rows.length === 0) return 0;
    const groups: [OutboxRow[], (rows: OutboxRow[]) => Promise<void>][] = [
      [rows.filter((r) => r.kind === 'channel.events'), (g) => this.relayEvents(g)],
      [rows.filter((r) => r.kind === 'voice.transcode'), (g) => this.voice.dispatch(g.map((r) => r.ref_id!))],
    ];
    for (const [group, run] of groups) {
      if (group.length === 0) continue;
      const ids = group.map((r) => r.id);
      try {
        // Bounded well inside the lease, so another relay does not take the rows while this one still works.
        await withTimeout(run(group), Math.floor(leaseMs / 2));
        await this.outbox.done(ids);
      } catch (error) {
        const attempts = Math.max(...group.map((r) => r.attempts));
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        this.logger.warn(`Outbox: ${group.length} ${group[0].kind} rows not relayed (attempt ${attempts}), retrying: ${message}`);
        await this.outbox.retryLater(ids, outboxBackoff(attempts), message).catch(() => undefined);
      }
    }
    return rows.length;
  }

  private async relayEvents(rows: OutboxRow[]): Promise<void> {
    const events: EventEnvelope[] = (await this.outbox.events(rows)).map(toEventEnvelope);
    if (events.length === 0) return;
    await Promise.all([this.webhooks.dispatch(events), this.push.dispatch(events)]);
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RelayTimeout(`no answer in ${ms} ms`)), ms);
  });
  // A side effect still running after the timeout may finish later: harmless, it is idempotent.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
