import { Injectable } from '@nestjs/common';
import { AccessService } from '../../access/access.service';
import { AppException } from '../../common/app.exception';
import { AppConfigService } from '../../config/app-config.service';
import { MetricsService } from '../../metrics/metrics.service';
import { MessageRepository } from '../message.repository';
import { MessageWriter } from './message-writer';
import { PendingSend, SendInput, SendResult } from './send.types';

/** Sends of every channel one write takes at most. */
export const MAX_BATCH = 200;

interface QueuedSend extends PendingSend {
  resolve: (result: SendResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit. Sends queue per channel; up to MESSAGE_WRITES_IN_FLIGHT writes run at once per
 * process, each taking the queued sends of every channel that has no write in flight (up to
 * MAX_BATCH), so sends that queued while earlier writes ran share one transaction across channels.
 * A channel is in at most one write at a time, so its sends get seqs in their arrival order on this
 * node. A batch that fails is retried send by send, so one bad send cannot fail its neighbours.
 */
@Injectable()
export class SendPipeline {
  private readonly queues = new Map<string, QueuedSend[]>();
  /** Channels with a write in flight on this node. */
  private readonly busy = new Set<string>();
  private inFlight = 0;
  /** Each write holds one pooled connection; on a small machine one at a time batches best. */
  private readonly maxInFlight: number;

  constructor(
    private readonly access: AccessService,
    private readonly messages: MessageRepository,
    private readonly writer: MessageWriter,
    private readonly metrics: MetricsService,
    config: AppConfigService,
  ) {
    this.maxInFlight = config.get('MESSAGE_WRITES_IN_FLIGHT');
  }

  /** Sends waiting for a write on this node. */
  get queued(): number {
    let n = 0;
    for (const queue of this.queues.values()) n += queue.length;
    return n;
  }

  async send(authorId: string, input: SendInput, workspaceId?: string): Promise<SendResult> {
    const access = await this.access.requireChannelMember(input.channelId, authorId, workspaceId);
    // Ids as Postgres spells them, so a send's key matches the row it finds or inserts.
    const normalized: SendInput = {
      ...input,
      channelId: input.channelId.toLowerCase(),
      topicId: input.topicId?.toLowerCase() ?? null,
      replyToId: input.replyToId?.toLowerCase() ?? null,
    };
    await this.checkReferences(normalized);
    const pending = { authorId, workspaceId: access.workspaceId, input: normalized };
    // A send with an in-transaction hook (voice) is written on its own.
    if (input.onCreated) return (await this.writer.commit([pending]))[0];
    return new Promise<SendResult>((resolve, reject) => {
      const queue = this.queues.get(normalized.channelId);
      const queued = { ...pending, resolve, reject };
      if (queue) queue.push(queued);
      else this.queues.set(normalized.channelId, [queued]);
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight) {
      const batch: QueuedSend[] = [];
      const channelIds: string[] = [];
      for (const [channelId, queue] of this.queues) {
        if (this.busy.has(channelId)) continue;
        batch.push(...queue.splice(0, MAX_BATCH - batch.length));
        channelIds.push(channelId);
        if (queue.length === 0) this.queues.delete(channelId);
        if (batch.length >= MAX_BATCH) break;
      }
      if (batch.length === 0) return;
      channelIds.forEach((id) => this.busy.add(id));
      this.inFlight++;
      void this.write(batch).finally(() => {
        channelIds.forEach((id) => this.busy.delete(id));
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async write(batch: QueuedSend[]): Promise<void> {
    this.metrics.commitBatchSize.observe(batch.length);
    try {
      const results = await this.writer.commit(batch);
      batch.forEach((queued, i) => queued.resolve(results[i]));
    } catch {
      // One bad row (a channel deleted meanwhile, a reference gone) must not fail the batch: each
      // send is retried alone and answers its own outcome.
      for (const queued of batch) {
        try {
          queued.resolve((await this.writer.commit([queued]))[0]);
        } catch (single) {
          queued.reject(single);
        }
      }
    }
  }

  private async checkReferences(input: SendInput): Promise<void> {
    if (input.topicId && !(await this.messages.topicInChannel(input.topicId, input.channelId))) throw AppException.notFound('Topic');
    if (input.replyToId && !(await this.messages.messageInChannel(input.replyToId, input.channelId))) {
      throw AppException.notFound('Message');
    }
  }
}
