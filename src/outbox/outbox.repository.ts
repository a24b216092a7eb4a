import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { SqlCtes, SqlParams } from '../common/sql-params';
import type { EventEnvelope } from '../messages/message.view';

export const OUTBOX_KINDS = ['channel.events', 'voice.transcode'] as const;
export type OutboxKind = (typeof OUTBOX_KINDS)[number];

/** One row of `outbox` (snake_case as Postgres returns it). */
export interface OutboxRow {
  id: string;
  kind: OutboxKind;
  workspace_id: string;
  channel_id: string | null;
  from_seq: string | null;
  to_seq: string | null;
  ref_id: string | null;
  created_at: Date;
  available_at: Date;
  attempts: number;
  last_error: string | null;
}

/** A voice clip whose transcode job must be queued (upload, end of a live recording, a retry). */
export interface VoiceJobIntent {
  workspaceId: string;
  voiceId: string;
}

/**
 * Records the side effects of committed channel events: one `channel.events` row per channel and
 * seq range, in the caller's transaction, so they commit (or roll back) with the events themselves.
 * The relay reads the events back from channel_events by range. With push disabled (no VAPID pair),
 * a workspace without webhooks gets no row: nothing would consume it, and each row costs the relay a
 * claim, a read and a delete. The webhook check runs in this statement, so a webhook committed before
 * it sees the events.
 */
export async function recordCommittedEvents(
  manager: EntityManager,
  events: readonly EventEnvelope[],
  options: { pushEnabled?: boolean } = {},
): Promise<void> {
  if (events.length === 0) return;
  const params = new SqlParams();
  await manager.query(`WITH ${committedEventsCtes(params, events, options)} SELECT 1`, params.values);
}

/** recordCommittedEvents as a CTE (`outboxed`), for a statement that writes the events themselves. */
export function committedEventsCtes(
  params: SqlParams,
  events: readonly EventEnvelope[],
  { pushEnabled = true }: { pushEnabled?: boolean } = {},
): SqlCtes {
  const ranges = new Map<string, { workspaceId: string; from: number; to: number }>();
  for (const e of events) {
    const range = ranges.get(e.channelId);
    if (!range) ranges.set(e.channelId, { workspaceId: e.workspaceId, from: e.seq, to: e.seq });
    else {
      range.from = Math.min(range.from, e.seq);
      range.to = Math.max(range.to, e.seq);
    }
  }
  const list = [...ranges];
  const u = [
    params.bind(list.map(([, r]) => r.workspaceId), 'uuid[]'),
    params.bind(list.map(([c]) => c), 'uuid[]'),
    params.bind(list.map(([, r]) => r.from), 'bigint[]'),
    params.bind(list.map(([, r]) => r.to), 'bigint[]'),
  ];
  return `outboxed AS (
    INSERT INTO outbox (kind, workspace_id, channel_id, from_seq, to_seq)
    SELECT 'channel.events', w, c, f, t FROM unnest(${u.join(', ')}) AS u(w, c, f, t)
     WHERE ${params.bind(pushEnabled, 'boolean')} OR EXISTS (SELECT 1 FROM webhooks h WHERE h.workspace_id = u.w)
  )`;
}

/** Records a voice transcode intent in the caller's transaction (or on its own with the data source's manager). */
export async function recordVoiceTranscode(manager: EntityManager, intent: VoiceJobIntent): Promise<void> {
  await manager.query(`INSERT INTO outbox (kind, workspace_id, ref_id) VALUES ('voice.transcode', $1, $2)`, [
    intent.workspaceId,
    intent.voiceId,
  ]);
}

/** A committed channel event as the relay reads it back. */
export interface RelayedEventRow {
  workspace_id: string;
  channel_id: string;
  seq: string;
  type: EventEnvelope['type'];
  at: Date;
  data: unknown;
}

/** Claims, settles and sweeps outbox rows (relay side). */
@Injectable()
export class OutboxRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Claims up to `limit` due rows: other relays skip the locked ones, and the lease (available_at
   * pushed forward) keeps them off until it runs out, so a relay that dies holding rows gives them
   * back by itself.
   */
  async claim(limit: number, leaseMs: number): Promise<OutboxRow[]> {
    const [rows]: [OutboxRow[], number] = await this.dataSource.query(
      `UPDATE outbox o SET available_at = now() + make_interval(secs => $2::double precision / 1000), attempts = o.attempts + 1
        WHERE o.id IN (SELECT id FROM outbox WHERE available_at <= now() ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING o.*`,
      [limit, leaseMs],
    );
    return rows.sort((a, b) => Number(a.id) - Number(b.id));
  }

  /** Relayed: gone. */
  async done(ids: string[]): Promise<void> {
    if (ids.length > 0) await this.dataSource.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [ids]);
  }

  /** Not relayed this time: due again after `delayMs`. */
  async retryLater(ids: string[], delayMs: number, error: string): Promise<void> {
    if (ids.length === 0) return;
    await this.dataSource.query(
      `UPDATE outbox SET available_at = now() + make_interval(secs => $2::double precision / 1000), last_error = $3
        WHERE id = ANY($1::bigint[])`,
      [ids, delayMs, error.slice(0, 1000)],
    );
  }

  /** The committed events of `channel.events` rows, in (channel, seq) order. */
  async events(rows: OutboxRow[]): Promise<RelayedEventRow[]> {
    const ranges = rows.filter((r) => r.kind === 'channel.events');
    if (ranges.length === 0) return [];
    return this.dataSource.query(
      `SELECT e.workspace_id, e.channel_id, e.seq, e.type, e.at, e.data
         FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS r(channel_id, from_seq, to_seq)
         JOIN channel_events e ON e.channel_id = r.channel_id AND e.seq BETWEEN r.from_seq AND r.to_seq
        ORDER BY e.channel_id, e.seq`,
      [ranges.map((r) => r.channel_id), ranges.map((r) => r.from_seq), ranges.map((r) => r.to_seq)],
    );
  }

  /** Status of each voice clip (absent: gone, or its message deleted). */
  async voiceStatuses(voiceIds: string[]): Promise<Map<string, string>> {
    if (voiceIds.length === 0) return new Map();
    const rows: { id: string; status: string }[] = await this.dataSource.query(
      `SELECT v.id, v.status FROM voice_clips v JOIN messages m ON m.id = v.message_id
        WHERE v.id = ANY($1::uuid[]) AND m.deleted_at IS NULL`,
      [voiceIds],
    );
    return new Map(rows.map((r) => [r.id, r.status]));
  }

  /**
   * Voices `processing` for longer than `olderThanMs` with no intent waiting get one: the relay then
   * re-queues the job if BullMQ lost it (a failed enqueue before the outbox, a Redis flush).
   */
  async requeueStuckVoices(olderThanMs: number, limit: number): Promise<number> {
    // INSERT ... RETURNING answers its rows (UPDATE and DELETE answer [rows, count]).
    const inserted: unknown[] = await this.dataSource.query(
      `INSERT INTO outbox (kind, workspace_id, ref_id)
       SELECT 'voice.transcode', v.workspace_id, v.id FROM voice_clips v
        WHERE v.status = 'processing' AND v.updated_at < now() - make_interval(secs => $1::double precision / 1000)
          AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.ref_id = v.id)
        ORDER BY v.updated_at LIMIT $2
       RETURNING 1`,
      [olderThanMs, limit],
    );
    return inserted.length;
  }

  /** Rows waiting (for metrics and tests). */
  async backlog(): Promise<number> {
    const rows: { n: number }[] = await this.dataSource.query('SELECT count(*)::int AS n FROM outbox');
    return rows[0].n;
  }
}
