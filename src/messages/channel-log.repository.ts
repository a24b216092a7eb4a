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
   * All events share `at`: one transaction, one now(). The data goes as one JSON array (one native
   * JSON.stringify, parsed once by Postgres) rather than a jsonb[] literal escaped element by element.
   */
  async insertEvents(manager: EntityManager, events: readonly EventEnvelope[], at: Date): Promise<void> {
    await manager.query(
      `INSERT INTO channel_events (channel_id, seq, workspace_id, type, data, at)
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
      ],
    );
  }

  async advanceHeads(manager: EntityManager, heads: { channelId: string; headSeq: number }[]): Promise<void> {
    if (heads.length === 1) {
      await manager.query('UPDATE channels SET head_seq = $2 WHERE id = $1', [heads[0].channelId, heads[0].headSeq]);
      return;
    }
    await manager.query(
      'UPDATE channels c SET head_seq = u.h FROM unnest($1::uuid[], $2::bigint[]) AS u(id, h) WHERE c.id = u.id',
      [heads.map((h) => h.channelId), heads.map((h) => h.headSeq)],
    );
  }
}
