import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { PushMessageJob, QUEUES } from '../queues/queues';
import { PushSenderService } from './push-sender.service';

/** Worker only: one job is one new message; retries (exponential, jittered) are BullMQ's. */
@Processor(QUEUES.push, { concurrency: 8 })
export class PushProcessor extends WorkerHost {
  constructor(private readonly sender: PushSenderService) {
    super();
  }

  async process(job: Job<PushMessageJob>): Promise<void> {
    await this.sender.send(job.data, job.id ?? `${job.data.channelId}.${job.data.seq}`);
  }
}
