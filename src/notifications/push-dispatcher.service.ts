import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { AppConfigService } from '../config/app-config.service';
import type { EventEnvelope, MessageView } from '../messages/message.view';
import { PUSH_MESSAGE_JOB, PushMessageJob, QUEUES } from '../queues/queues';
import { VapidKeysService } from './vapid-keys.service';

/** One job per new message, whatever the channel size: the same (channel, seq) always gets the same id. */
export const pushJobId = (event: Pick<EventEnvelope, 'channelId' | 'seq'>) => `${event.channelId}.${event.seq}`;

/**
 * Turns committed `message.created` events into `push` jobs. Nothing per recipient happens here (the
 * live path stays as it is); the worker finds who is offline and subscribed. Called by the outbox
 * relay, which calls again after a failure: the job id makes a repeat a no-op.
 */
@Injectable()
export class PushDispatcher {
  constructor(
    @InjectQueue(QUEUES.push) private readonly queue: Queue<PushMessageJob>,
    private readonly vapid: VapidKeysService,
    private readonly config: AppConfigService,
  ) {}

  /** False when push is disabled here (no VAPID pair): committed events then need no push outbox row. */
  async enabled(): Promise<boolean> {
    // Unknown (a generated pair not readable from Redis right now) counts as enabled: a row too many is harmless.
    return this.vapid.keys().then((keys) => keys !== null, () => true);
  }

  async dispatch(events: EventEnvelope[]): Promise<void> {
    const created = events.filter(
      (e) => e.type === 'message.created' && (e.data as MessageView | null)?.kind !== 'system',
    );
    if (created.length === 0 || !(await this.vapid.keys())) return;
    await this.queue.addBulk(
      created.map((event) => ({
        name: PUSH_MESSAGE_JOB,
        data: {
          workspaceId: event.workspaceId,
          channelId: event.channelId,
          seq: event.seq,
          messageId: (event.data as MessageView).id,
        },
        opts: {
          jobId: pushJobId(event),
          attempts: this.config.get('PUSH_MAX_ATTEMPTS'),
          // Doubling from the base; each delay drawn from its upper half, so retries of one burst spread out.
          backoff: { type: 'exponential', delay: this.config.get('PUSH_BACKOFF_BASE_MS'), jitter: 0.5 },
          removeOnComplete: { age: 3600, count: 1000 },
          removeOnFail: { age: 86400, count: 1000 },
        },
      })),
    );
  }
}
