import type { ChannelEventType } from './channel-event.entity';
import type { EventEnvelope } from './message.view';

/**
 * A locked channel head inside one transaction: the only allocator of seqs. The row lock (taken by
 * ChannelLog.lock) makes every writer of the channel, on any node, wait its turn, so seqs are
 * handed out gap-free, without repeats and in commit order; a rolled-back transaction gives its
 * seqs back with it.
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

  /** The event of a seq handed out by next(). */
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

  /**
   * The invariant every write of the log goes through: the recorded events, in seq order, cover
   * exactly startSeq+1..headSeq (no allocated seq without its event, no event twice).
   */
  seal(): EventEnvelope[] {
    const events = [...this.events].sort((a, b) => a.seq - b.seq);
    if (events.length === 0 && this.seq === this.startSeq) return [];
    if (events.length !== this.seq - this.startSeq || events.some((e, i) => e.seq !== this.startSeq + 1 + i)) {
      throw new Error(`Channel ${this.channelId}: events must cover seqs ${this.startSeq + 1}..${this.seq} exactly`);
    }
    return events;
  }
}
