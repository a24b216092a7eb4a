import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { QUEUES, WebhookDeliveryJob } from '../queues/queues';
import { WebhookDeliveryService, webhookBackoff } from './webhook-delivery.service';

/** Worker only: one job is one delivery attempt; retries and their delays are BullMQ's. */
@Processor(QUEUES.webhooks, {
  concurrency: 8,
  settings: {
    // The base delay travels in the job's `backoff.delay` (set by the enqueuer from WEBHOOK_BACKOFF_BASE_MS).
    backoffStrategy: (attemptsMade, _type, _error, job) => {
      const backoff = job?.opts.backoff;
      const base = typeof backoff === 'object' && backoff.delay ? backoff.delay : 1000;
      return webhookBackoff(attemptsMade, base);
    },
  },
})
export class WebhooksProcessor extends WorkerHost {
  private readonly logger = new Logger(WebhooksProcessor.name);

  constructor(private readonly deliveries: WebhookDeliveryService) {
    super();
  }

  async process(job: Job<WebhookDeliveryJob>): Promise<void> {
    const isLastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    await this.deliveries.attempt(job.data.deliveryId, isLastAttempt);
  }

  /**
   * A job BullMQ will not run again must still settle its delivery (a failed send on the last attempt
   * already did): an error that was not a send (Postgres down), or a job stalled too often.
   */
  @OnWorkerEvent('failed')
  async onFailed(job: Job<WebhookDeliveryJob> | undefined, error: Error): Promise<void> {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1) || /stalled/i.test(error?.message ?? '');
    if (!final) return;
    await this.deliveries
      .giveUp(job.data.deliveryId, `delivery gave up: ${error?.message ?? 'unknown error'}`)
      .catch((giveUpError: unknown) => this.logger.error({ err: giveUpError }, 'Could not mark a delivery failed'));
  }
}
