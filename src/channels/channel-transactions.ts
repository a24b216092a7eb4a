import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { FanoutService } from '../fanout/fanout.service';
import type { ChannelEventType } from '../messages/channel-event.entity';
import type { EventEnvelope } from '../messages/message.view';
import { MessagesService } from '../messages/messages.service';

export interface NewChannelEvent {
  type: ChannelEventType;
  data: unknown;
}

/**
 * The one way channels, topics, workspaces and invites change a channel log: `append` adds events
 * inside a `transaction`, whose committed events go to fan-out after COMMIT; nothing is published
 * for a transaction that rolled back, and no caller publishes by hand. Its two methods have the
 * shape of the write path's ChannelLog (`transaction(work)`, `append(manager, channelId, items)`),
 * so this class can give way to it without touching its callers' logic.
 */
@Injectable()
export class ChannelTransactions {
  private readonly pending = new WeakMap<EntityManager, EventEnvelope[]>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly messages: MessagesService,
    private readonly fanout: FanoutService,
  ) {}

  async transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const committed: EventEnvelope[] = [];
    const result = await this.dataSource.transaction(async (manager) => {
      this.pending.set(manager, committed);
      try {
        return await work(manager);
      } finally {
        this.pending.delete(manager);
      }
    });
    this.fanout.publishEvents(committed);
    return result;
  }

  /** Appends events to the channel's log (taking its row lock) in the transaction of `manager`. */
  async append(manager: EntityManager, channelId: string, items: NewChannelEvent[]): Promise<EventEnvelope[]> {
    const pending = this.pending.get(manager);
    // An append outside transaction() would commit events nobody fans out: refuse it.
    if (!pending) throw new Error('Channel events are appended only inside ChannelTransactions.transaction');
    const appended = await this.messages.appendInTransaction(manager, channelId, items);
    pending.push(...appended);
    return appended;
  }
}
