import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfigService } from '../config/app-config.service';
import { WebhookDispatcher } from '../webhooks/webhook-dispatcher.service';
import { OutboxRepository } from './outbox.repository';
import { OutboxRelay } from './outbox.relay';
import { runAsSystem } from '../tenancy/tenant-context';

/**
 * The safety net behind the outbox, for what went wrong after a job was queued (a Redis flush, a
 * job that ended without settling its row) or before the outbox existed: a webhook delivery never
 * stays `pending` and a voice never stays `processing` without a job that will settle it.
 */
@Injectable()
export class OutboxSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OutboxSweeper.name);
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | null = null;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly webhooks: WebhookDispatcher,
    private readonly relay: OutboxRelay,
    private readonly config: AppConfigService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.get('OUTBOX_RELAY')) return;
    this.timer = setInterval(() => {
      this.sweeping ??= runAsSystem('outbox.sweeper', () => this.sweep())
        .then(() => undefined)
        .catch((error: unknown) => this.logger.warn(`Outbox sweep: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => (this.sweeping = null));
    }, this.config.get('OUTBOX_SWEEP_MS'));
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  async sweep(): Promise<{ voices: number; deliveriesRequeued: number; deliveriesFailed: number }> {
    const stuckAfter = this.config.get('OUTBOX_STUCK_AFTER_MS');
    const voices = await this.outbox.requeueStuckVoices(stuckAfter, 200);
    if (voices > 0) {
      this.logger.warn(`${voices} voices still processing after ${stuckAfter} ms: their jobs are checked`);
      this.relay.wake();
    }
    const { requeued, failed } = await this.webhooks.sweep(stuckAfter);
    return { voices, deliveriesRequeued: requeued, deliveriesFailed: failed };
  }
}
