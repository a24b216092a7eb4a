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

/** One transaction of channel, membership or topic changes. */
export interface ChannelTransaction {
  readonly manager: EntityManager;
  /** Appends events to the channel's log in this transaction; they are published once it commits. */
  append(channelId: string, events: NewChannelEvent[]): Promise<EventEnvelope[]>;
}

/**
 * The one way channels, workspaces and invites change a channel log: appends happen inside the
 * transaction, the committed events go to fan-out after COMMIT, and nothing is published for a
 * transaction that rolled back. Callers never publish by hand.
 */
@Injectable()
export class ChannelTransactions {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly messages: MessagesService,
    private readonly fanout: FanoutService,
  ) {}

  async run<T>(work: (tx: ChannelTransaction) => Promise<T>): Promise<T> {
    const committed: EventEnvelope[] = [];
    const result = await this.dataSource.transaction((manager) =>
      work({
        manager,
        append: async (channelId, events) => {
          const appended = await this.messages.appendInTransaction(manager, channelId, events);
          committed.push(...appended);
          return appended;
        },
      }),
    );
    this.fanout.publishEvents(committed);
    return result;
  }
}
