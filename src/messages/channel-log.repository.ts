import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { toPgJson } from '../common/pg-json';
import type { EventEnvelope } from './message.view';
import type { ChannelHeadRow } from './message.rows';

/** The SQL of the channel log: head locks, event rows, head moves. Runs in the caller's transaction. */
@Injectable()
export class ChannelLogRepository {
  /** Locks the channel rows in id order (the fixed order rules out deadlocks between writers). */
  lockHeads(manager: EntityManager, channelIds: string[]): Promise<ChannelHeadRow[]> {
    return manager.query(
      'SELECT id, workspace_id, head_seq, now() AS now FROM channels WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE',
      [channelIds],
    );
  }

  /**
   * Appends the events and moves the heads, in one statement (one round trip in the write path's
   * transaction). All events share `at`: one transaction, one now(). The event data goes as one JSON
   * array (one native JSON.stringify, parsed once by Postgres) rather than a jsonb[] literal escaped
   * element by element.
   */
  async appendEvents(
    manager: EntityManager,
    events: readonly EventEnvelope[],
    heads: readonly { channelId: string; headSeq: number }[],
    at: Date,
  ): Promise<void> {
    await manager.query(
      `WITH moved AS (
         UPDATE channels c SET head_seq = h.head_seq FROM unnest($7::uuid[], $8::bigint[]) AS h(id, head_seq) WHERE c.id = h.id
       )
       INSERT INTO channel_events (channel_id, seq, workspace_id, type, data, at)
       SELECT u.c, u.s, u.w, u.t, d.value, $3
         FROM unnest($1::uuid[], $2::uuid[], $4::bigint[], $5::text[]) WITH ORDINALITY AS u(c, w, s, t, n)
         JOIN jsonb_array_elements($6::jsonb) WITH ORDINALITY AS d(value, n) ON d.n = u.n`,
      [
        events.map((e) => e.channelId),
        events.map((e) => e.workspaceId),
        at,
        events.map((e) => e.seq),
        events.map((e) => e.type),
        toPgJson(events.map((e) => e.data)),
        heads.map((h) => h.channelId),
        heads.map((h) => h.headSeq),
      ],
    );
  }
}
