import { Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AppException } from '../common/app.exception';
import { discoverProviders } from '../common/discovery';
import { FanoutService } from '../fanout/fanout.service';
import type { ChannelEventType } from './channel-event.entity';
import { ChannelHead } from './channel-head';
import { ChannelLogTxHook, ChannelLogTxHookProvider } from './channel-log.hooks';
import { ChannelLogRepository } from './channel-log.repository';
import type { EventEnvelope } from './message.view';

export { ChannelHead } from './channel-head';

/** What one ChannelLog transaction has locked so far. */
interface OpenTransaction {
  heads: Map<string, ChannelHead>;
}

/**
 * The only way to change a channel. `transaction(work)` opens a Postgres transaction in which
 * `lock` takes channel heads (row locks, id order) and `append` adds events with the next seqs;
 * when `work` returns, every head goes through the ChannelHead invariant, the events and heads are
 * written, the in-transaction hooks (outbox) run, and the transaction commits. Only then are the
 * committed events handed to fan-out and, after the emits, to the committed-events handlers. No
 * caller publishes by hand. See docs/ARCHITECTURE.md, "One write path".
 */
@Injectable()
export class ChannelLog {
  private readonly open = new WeakMap<EntityManager, OpenTransaction>();
  private hooks: ChannelLogTxHook[] | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: ChannelLogRepository,
    private readonly fanout: FanoutService,
    private readonly discovery: DiscoveryService,
  ) {}

  async transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const { result, events } = await this.dataSource.transaction(async (manager) => {
      const open: OpenTransaction = { heads: new Map() };
      this.open.set(manager, open);
      try {
        const result = await work(manager);
        const events = await commitChannelHeads(manager, [...open.heads.values()], this.repository);
        if (events.length > 0) for (const hook of this.txHooks()) await hook.inTransaction(manager, events);
        return { result, events };
      } finally {
        this.open.delete(manager);
      }
    });
    this.fanout.publishCommitted(events);
    return result;
  }

  /**
   * Locks the heads of `channelIds` (those not yet locked by this transaction, in id order) and
   * answers the heads of the channels that exist, keyed by lower-case id (as Postgres spells it).
   */
  async lock(manager: EntityManager, channelIds: readonly string[]): Promise<Map<string, ChannelHead>> {
    const open = this.openTransaction(manager);
    const wanted = [...new Set(channelIds.map((id) => id.toLowerCase()))];
    const missing = wanted.filter((id) => !open.heads.has(id)).sort();
    if (missing.length > 0) {
      for (const row of await this.repository.lockHeads(manager, missing)) {
        open.heads.set(row.id, new ChannelHead(row.id, row.workspace_id, Number(row.head_seq), row.now));
      }
    }
    const heads = new Map<string, ChannelHead>();
    for (const id of wanted) {
      const head = open.heads.get(id);
      if (head) heads.set(id, head);
    }
    return heads;
  }

  /** The channel's locked head; an unknown channel answers NOT_FOUND. */
  async lockOne(manager: EntityManager, channelId: string): Promise<ChannelHead> {
    const head = (await this.lock(manager, [channelId])).get(channelId.toLowerCase());
    if (!head) throw AppException.notFound('Channel');
    return head;
  }

  /** Appends events that need no seq in their data (member.joined, topic.created...). */
  async append(
    manager: EntityManager,
    channelId: string,
    items: readonly { type: ChannelEventType; data: unknown }[],
  ): Promise<EventEnvelope[]> {
    const head = await this.lockOne(manager, channelId);
    return items.map((item) => head.append(item.type, item.data));
  }

  private openTransaction(manager: EntityManager): OpenTransaction {
    const open = this.open.get(manager);
    // A head outside ChannelLog.transaction would commit events nobody fans out: refuse it.
    if (!open) throw new Error('Channel heads are locked only inside ChannelLog.transaction');
    return open;
  }

  private txHooks(): ChannelLogTxHook[] {
    this.hooks ??= discoverProviders<ChannelLogTxHook>(this.discovery, ChannelLogTxHookProvider);
    return this.hooks;
  }
}

/**
 * Writes the heads' recorded events and moves the heads, in the transaction that holds their
 * locks; each head must pass its invariant first (ChannelHead.seal). Answers the events in commit
 * order (channel id, then seq).
 */
export async function commitChannelHeads(
  manager: EntityManager,
  heads: readonly ChannelHead[],
  repository = new ChannelLogRepository(),
): Promise<EventEnvelope[]> {
  const sealed = [...heads]
    .sort((a, b) => (a.channelId < b.channelId ? -1 : a.channelId > b.channelId ? 1 : 0))
    .map((head) => ({ head, events: head.seal() }))
    .filter((s) => s.events.length > 0);
  if (sealed.length === 0) return [];
  const events = sealed.flatMap((s) => s.events);
  await repository.appendEvents(
    manager,
    events,
    sealed.map((s) => ({ channelId: s.head.channelId, headSeq: s.head.headSeq })),
    sealed[0].head.at,
  );
  return events;
}

export const commitChannelHead = (manager: EntityManager, head: ChannelHead) => commitChannelHeads(manager, [head]);
