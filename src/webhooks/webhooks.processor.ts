import { Processor, WorkerHost } from '@nestjs/bullmq';
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
  constructor(private readonly deliveries: WebhookDeliveryService) {
    super();
  }

  async process(job: Job<WebhookDeliveryJob>): Promise<void> {
    const isLastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    await this.deliveries.attempt(job.data.deliveryId, isLastAttempt);
  }
}
