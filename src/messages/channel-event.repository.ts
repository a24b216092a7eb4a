import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { ChannelEventTextRow, MessageRow } from './message.rows';

/** `at` as toISOString() writes it (UTC, milliseconds), so the text goes on the wire as it is. */
const AT_ISO = `to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Where a catch-up starts in one channel. */
export interface CatchUpFrom {
  channelId: string;
  afterSeq: number;
}

/**
 * One row of a catch-up read: a channel's head and how many events it is behind (at most the
 * per-channel limit), with one of its events, or with none (nothing new, or not read this time).
 */
export interface CatchUpRow extends Partial<Omit<ChannelEventTextRow, 'channel_id'>> {
  channel_id: string;
  head_seq: string;
  need: string;
  seq?: string;
}

/** Reads of the channel log (catch-up by primary key range) and the redaction of stale copies. */
@Injectable()
export class ChannelEventRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * The heads of the channels and, when every channel's need (up to `perChannel` events) fits in
   * `total`, their events too: one statement, one snapshot, in the common case. When they do not
   * fit, the rows carry only heads and needs, and the caller shares `total` out and reads `pages`.
   */
  catchUp(from: readonly CatchUpFrom[], perChannel: number, total: number): Promise<CatchUpRow[]> {
    return this.dataSource.query(
      `WITH h AS (
         SELECT c.id, c.head_seq, q.after_seq, LEAST($3::bigint, GREATEST(0, c.head_seq - q.after_seq)) AS need
           FROM unnest($1::uuid[], $2::bigint[]) AS q(id, after_seq) JOIN channels c ON c.id = q.id
       ), fits AS (SELECT coalesce(sum(need), 0) <= $4 AS whole FROM h)
       SELECT h.id AS channel_id, h.head_seq, h.need, e.workspace_id, e.seq, e.type, ${AT_ISO} AS at, e.data::text AS data
         FROM h CROSS JOIN fits
         LEFT JOIN LATERAL (
           SELECT workspace_id, seq, type, at, data FROM channel_events
            WHERE channel_id = h.id AND seq > h.after_seq AND fits.whole ORDER BY seq LIMIT h.need
         ) e ON true
        ORDER BY h.id, e.seq`,
      [from.map((f) => f.channelId), from.map((f) => f.afterSeq), perChannel, total],
    );
  }

  /** Up to `quota` events after `afterSeq` of each channel, by primary key. */
  pages(from: readonly (CatchUpFrom & { quota: number })[]): Promise<ChannelEventTextRow[]> {
    return this.dataSource.query(
      `SELECT q.id AS channel_id, e.workspace_id, e.seq, e.type, ${AT_ISO} AS at, e.data::text AS data
         FROM unnest($1::uuid[], $2::bigint[], $3::int[]) AS q(id, after_seq, quota)
         CROSS JOIN LATERAL (
           SELECT workspace_id, seq, type, at, data FROM channel_events
            WHERE channel_id = q.id AND seq > q.after_seq ORDER BY seq LIMIT q.quota
         ) e
        ORDER BY q.id, e.seq`,
      [from.map((f) => f.channelId), from.map((f) => f.afterSeq), from.map((f) => f.quota)],
    );
  }

  /**
   * Rewrites the stored copies of a message that an edit or a delete made stale: its earlier
   * `message.*` events in the channel log and the webhook deliveries that carry them, so a member who
   * joins later (or a delivery still pending) never reads text that was deleted or edited away.
   * Runs in the edit's transaction, with the channel head locked. `body` goes in as text and is
   * turned into JSON by Postgres.
   */
  async redactEarlier(manager: EntityManager, message: MessageRow, change: { body: string; deleted?: boolean }): Promise<void> {
    const patch = `jsonb_build_object('body', $4::text) || $5::jsonb`;
    const extra = change.deleted ? '{"reactions": [], "voice": null}' : '{}';
    // The message's events all come at or after its own seq; the expression index finds them.
    await manager.query(
      `UPDATE channel_events SET data = data || ${patch}
        WHERE channel_id = $1 AND seq >= $2 AND (data->>'id') = $3::text AND type LIKE 'message.%'`,
      [message.channel_id, message.seq, message.id, change.body, extra],
    );
    await manager.query(
      `UPDATE webhook_deliveries SET payload = jsonb_set(payload, '{data}', (payload->'data') || ${patch})
        WHERE workspace_id = $1 AND (payload->'data'->>'id') = $3::text AND $2::bigint IS NOT NULL`,
      [message.workspace_id, message.seq, message.id, change.body, extra],
    );
  }
}
