import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { toPgJson } from '../common/pg-json';
import { SqlCtes, SqlParams } from '../common/sql-params';
import type { EventEnvelope } from './message.view';
import type { ChannelHeadRow } from './message.rows';

const LOCK_HEADS = 'SELECT id, workspace_id, head_seq, now() AS now FROM channels WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE';

/** The SQL of the channel log: head locks, event rows, head moves. Runs in the caller's transaction. */
@Injectable()
export class ChannelLogRepository {
  /** Locks the channel rows in id order (the fixed order rules out deadlocks between writers). */
  lockHeads(manager: EntityManager, channelIds: string[]): Promise<ChannelHeadRow[]> {
    return manager.query(LOCK_HEADS, [channelIds]);
  }

  /** lockHeads as a statement for a raw client (the first of ChannelLog.writeInOneStatement). */
  lockHeadsStatement(channelIds: readonly string[]): { text: string; values: unknown[] } {
    return { text: LOCK_HEADS, values: [channelIds] };
  }

  /** The one statement of ChannelLog.writeInOneStatement: every fragment, and how many rows `counted` wrote. */
  writeStatementSql(ctes: readonly SqlCtes[], counted: string): string {
    return `WITH ${ctes.join(', ')} SELECT count(*)::int AS n FROM ${counted}`;
  }

  /**
   * Appends the events and moves the heads, in one statement (one round trip in the write path's
   * transaction). All events share `at`: one transaction, one now().
   */
  async appendEvents(
    manager: EntityManager,
    events: readonly EventEnvelope[],
    heads: readonly { channelId: string; headSeq: number }[],
    at: Date,
  ): Promise<void> {
    const params = new SqlParams();
    await manager.query(`WITH ${this.appendEventsCtes(params, events, heads, at)} SELECT 1`, params.values);
  }

  /**
   * appendEvents as CTEs (`moved`: the heads' new seqs, `appended`) of a larger statement. The event data goes as one
   * JSON array (one native JSON.stringify, parsed once by Postgres) rather than a jsonb[] literal
   * escaped element by element.
   */
  appendEventsCtes(
    params: SqlParams,
    events: readonly EventEnvelope[],
    heads: readonly { channelId: string; headSeq: number }[],
    at: Date,
  ): SqlCtes {
    const channel = params.bind(events.map((e) => e.channelId), 'uuid[]');
    const workspace = params.bind(events.map((e) => e.workspaceId), 'uuid[]');
    const eventsAt = params.bind(at, 'timestamptz');
    const seq = params.bind(events.map((e) => e.seq), 'bigint[]');
    const type = params.bind(events.map((e) => e.type), 'text[]');
    const data = params.bind(toPgJson(events.map((e) => e.data)), 'jsonb');
    const moves = `unnest(${params.bind(heads.map((h) => h.channelId), 'uuid[]')}, ${params.bind(heads.map((h) => h.headSeq), 'bigint[]')})`;
    return `moved AS (
      UPDATE channels c SET head_seq = h.head_seq FROM ${moves} AS h(id, head_seq) WHERE c.id = h.id RETURNING c.id, c.head_seq
    ), appended AS (
      INSERT INTO channel_events (channel_id, seq, workspace_id, type, data, at)
      SELECT u.c, u.s, u.w, u.t, d.value, ${eventsAt}
        FROM unnest(${channel}, ${workspace}, ${seq}, ${type}) WITH ORDINALITY AS u(c, w, s, t, n)
        JOIN jsonb_array_elements(${data}) WITH ORDINALITY AS d(value, n) ON d.n = u.n
    )`;
  }
}
