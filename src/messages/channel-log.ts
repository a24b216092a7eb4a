import { Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import type pg from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { AppException } from '../common/app.exception';
import { discoverProviders } from '../common/discovery';
import { SqlCtes, SqlParams } from '../common/sql-params';
import { beginTransactionWith } from '../tenancy/tenant-pool';
import { FanoutService } from '../fanout/fanout.service';
import type { ChannelEventType } from './channel-event.entity';
import { ChannelHead } from './channel-head';
import { ChannelLogTxHook, ChannelLogTxHookProvider } from './channel-log.hooks';
import { ChannelLogRepository } from './channel-log.repository';
import type { EventEnvelope } from './message.view';
import type { ChannelHeadRow } from './message.rows';

export { ChannelHead } from './channel-head';

/** The write of ChannelLog.writeInOneStatement: its CTEs and the one whose rows it counts. */
export interface GuardedWrite {
  ctes: SqlCtes;
  /** The CTE that must return `rows` rows for the transaction to commit (fewer: ON CONFLICT skipped some). */
  counted: string;
  rows: number;
}

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
  /** Names of the prepared statements writeInOneStatement has built, by text. */
  private readonly statementNames = new Map<string, string>();

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
   * `transaction` for a change that is one statement of its own (a batch of new text messages),
   * with the same heads, invariant and hooks, in three round trips on a pooled client: start with the
   * heads locked; one prepared statement with `plan`'s write, the events, the head moves and the
   * hooks' rows; commit. `plan` gets the locked heads (a missing channel is absent), allocates seqs
   * from them and binds its write's values into `params`. Answers undefined, with nothing written,
   * when the write's counted CTE returned fewer rows than it wanted: the caller decides what next.
   */
  async writeInOneStatement<T>(
    channelIds: readonly string[],
    plan: (heads: ReadonlyMap<string, ChannelHead>, params: SqlParams) => { write: GuardedWrite; result: T },
  ): Promise<T | undefined> {
    const wanted = [...new Set(channelIds.map((id) => id.toLowerCase()))].sort();
    const client = await (this.dataSource.driver as PostgresDriver).master.connect() as pg.PoolClient;
    let broken: Error | undefined;
    // A checked-out client has no listener of its own: a connection lost meanwhile (Postgres down)
    // would be an unhandled 'error' event and end the process. It is released as broken instead.
    const onError = (error: Error) => (broken = error);
    client.on('error', onError);
    try {
      const locked = await beginTransactionWith(client, this.repository.lockHeadsStatement(wanted));
      const heads = new Map<string, ChannelHead>();
      for (const row of locked.rows as ChannelHeadRow[]) {
        heads.set(row.id, new ChannelHead(row.id, row.workspace_id, Number(row.head_seq), row.now));
      }
      const params = new SqlParams();
      const { write, result } = plan(heads, params);
      const { events, moves } = sealHeads([...heads.values()]);
      const ctes = [write.ctes];
      if (events.length > 0) {
        ctes.push(this.repository.appendEventsCtes(params, events, moves, heads.get(events[0].channelId)!.at));
        for (const hook of this.txHooks()) {
          const hookCtes = await hook.inStatement(params, events);
          if (hookCtes) ctes.push(hookCtes);
        }
      }
      const text = this.repository.writeStatementSql(ctes, write.counted);
      const written = await client.query<{ n: number }>({ name: this.statementName(text), text, values: params.values });
      if (written.rows[0].n < write.rows) {
        await client.query('ROLLBACK');
        return undefined;
      }
      await client.query('COMMIT');
      this.fanout.publishCommitted(events);
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((failure: Error) => (broken = failure));
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
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

  private statementName(text: string): string {
    let name = this.statementNames.get(text);
    if (!name) {
      name = `pigeon_log_write_${this.statementNames.size + 1}`;
      this.statementNames.set(text, name);
    }
    return name;
  }

  private txHooks(): ChannelLogTxHook[] {
    this.hooks ??= discoverProviders<ChannelLogTxHook>(this.discovery, ChannelLogTxHookProvider);
    return this.hooks;
  }
}

/**
 * The heads' recorded events in commit order (channel id, then seq) and the heads' new seqs; each
 * head must pass its invariant first (ChannelHead.seal).
 */
function sealHeads(heads: readonly ChannelHead[]): { events: EventEnvelope[]; moves: { channelId: string; headSeq: number }[] } {
  const sealed = [...heads]
    .sort((a, b) => (a.channelId < b.channelId ? -1 : a.channelId > b.channelId ? 1 : 0))
    .map((head) => ({ head, events: head.seal() }))
    .filter((s) => s.events.length > 0);
  return { events: sealed.flatMap((s) => s.events), moves: sealed.map((s) => ({ channelId: s.head.channelId, headSeq: s.head.headSeq })) };
}

/**
 * Writes the heads' recorded events and moves the heads, in the transaction that holds their
 * locks; each head must pass its invariant first. Answers the events in commit order.
 */
export async function commitChannelHeads(
  manager: EntityManager,
  heads: readonly ChannelHead[],
  repository = new ChannelLogRepository(),
): Promise<EventEnvelope[]> {
  const { events, moves } = sealHeads(heads);
  if (events.length === 0) return [];
  const at = heads.find((h) => h.channelId === events[0].channelId)!.at;
  await repository.appendEvents(manager, events, moves, at);
  return events;
}

export const commitChannelHead = (manager: EntityManager, head: ChannelHead) => commitChannelHeads(manager, [head]);
