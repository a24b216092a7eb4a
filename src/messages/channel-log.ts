import type { EntityManager } from 'typeorm';
import { AppException } from '../common/app.exception';
import type { ChannelEventType } from './channel-event.entity';
import type { EventEnvelope } from './message.view';
import { recordCommittedEvents } from '../outbox/outbox.repository';

/**
 * Where a channel event gets its seq. `lockChannelHead` takes the channel row's lock
 * (SELECT ... FOR UPDATE) inside the caller's transaction, so every writer of a channel, on any
 * node, waits its turn: seqs are handed out gap-free, without repeats and in commit order
 * (a rolled-back transaction gives its seqs back with it). See docs/ARCHITECTURE.md.
 */
export class ChannelHead {
  private readonly events: EventEnvelope[] = [];
  private seq: number;

  constructor(
    readonly channelId: string,
    readonly workspaceId: string,
    readonly startSeq: number,
    readonly at: Date,
  ) {
    this.seq = startSeq;
  }

  get headSeq(): number {
    return this.seq;
  }

  /** Allocates the next seq for an event whose data needs to know it (message.created). */
  next(): number {
    return ++this.seq;
  }

  record(seq: number, type: ChannelEventType, data: unknown): EventEnvelope {
    const event = { workspaceId: this.workspaceId, channelId: this.channelId, seq, type, at: this.at.toISOString(), data };
    this.events.push(event);
    return event;
  }

  append(type: ChannelEventType, data: unknown): EventEnvelope {
    return this.record(this.next(), type, data);
  }

  get pending(): readonly EventEnvelope[] {
    return this.events;
  }
}

export async function lockChannelHead(manager: EntityManager, channelId: string): Promise<ChannelHead> {
  const rows: { workspace_id: string; head_seq: string; now: Date }[] = await manager.query(
    'SELECT workspace_id, head_seq, now() AS now FROM channels WHERE id = $1 FOR UPDATE',
    [channelId],
  );
  if (rows.length === 0) throw AppException.notFound('Channel');
  return new ChannelHead(channelId, rows[0].workspace_id, Number(rows[0].head_seq), rows[0].now);
}

/** Writes the recorded events and advances the head, in the same transaction as the lock. */
export async function commitChannelHead(manager: EntityManager, head: ChannelHead): Promise<EventEnvelope[]> {
  const events = [...head.pending].sort((a, b) => a.seq - b.seq);
  if (events.length === 0) return [];
  const seqs = events.map((e) => e.seq);
  if (seqs[0] !== head.startSeq + 1 || seqs.some((s, i) => s !== head.startSeq + 1 + i) || head.headSeq !== seqs[seqs.length - 1]) {
    throw new Error(`Channel ${head.channelId}: events must cover seqs ${head.startSeq + 1}..${head.headSeq} exactly`);
  }
  await manager.query(
    `INSERT INTO channel_events (channel_id, seq, workspace_id, type, data, at)
     SELECT $1, s, $2, t, d, $3 FROM unnest($4::bigint[], $5::text[], $6::jsonb[]) AS u(s, t, d)`,
    [head.channelId, head.workspaceId, head.at, seqs, events.map((e) => e.type), events.map((e) => JSON.stringify(e.data))],
  );
  await manager.query('UPDATE channels SET head_seq = $2 WHERE id = $1', [head.channelId, head.headSeq]);
  // Their side effects (webhooks, push) commit with them; the outbox relay runs them after commit.
  await recordCommittedEvents(manager, events);
  return events;
}
