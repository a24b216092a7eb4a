/**
 * Per-channel ordering of sequenced events, with no I/O: events go in through `push` in any order
 * and any number of times, and come out through `deliver` once each, in `seq` order, with no gap.
 * A hole that stays open longer than `gapWindowMs` is reported through `onGap`, so the owner can
 * fetch the missing range (the client uses `sync`) and push it back in.
 */

export interface SequencedEvent {
  channelId: string;
  seq: number;
}

/** A hole in a channel: `afterSeq` was delivered, `fromSeq..toSeq` are missing, later ones wait. */
export interface Gap {
  channelId: string;
  afterSeq: number;
  fromSeq: number;
  toSeq: number;
  /** Events of this channel held back behind the hole. */
  buffered: number;
}

export type PushStatus = 'delivered' | 'buffered' | 'duplicate' | 'invalid';

export interface PushResult {
  status: PushStatus;
  /** Events delivered by this push: the pushed one plus any it released from the buffer. */
  delivered: number;
}

export interface ChannelSequencerOptions<E extends SequencedEvent> {
  deliver: (event: E) => void;
  onGap?: (gap: Gap) => void;
  /** How long a hole may stay open before it is reported; live events across nodes can cross. */
  gapWindowMs?: number;
  /** Report at once when this many events of one channel wait behind a hole, to bound memory and delay. */
  maxBufferedPerChannel?: number;
}

interface ChannelState<E> {
  lastDelivered: number;
  buffer: Map<number, E>;
  timer?: ReturnType<typeof setTimeout>;
  /** The current hole was reported; no new report until the channel makes progress. */
  gapReported: boolean;
}

export const DEFAULT_GAP_WINDOW_MS = 200;

export class ChannelSequencer<E extends SequencedEvent = SequencedEvent> {
  private readonly channelStates = new Map<string, ChannelState<E>>();
  private readonly deliverEvent: (event: E) => void;
  private readonly onGap?: (gap: Gap) => void;
  private readonly gapWindowMs: number;
  private readonly maxBufferedPerChannel: number;

  constructor(options: ChannelSequencerOptions<E>) {
    this.deliverEvent = options.deliver;
    this.onGap = options.onGap;
    this.gapWindowMs = options.gapWindowMs ?? DEFAULT_GAP_WINDOW_MS;
    this.maxBufferedPerChannel = options.maxBufferedPerChannel ?? 5000;
  }

  /** Events held back behind holes, over all channels. */
  get buffered(): number {
    let total = 0;
    for (const state of this.channelStates.values()) total += state.buffer.size;
    return total;
  }

  bufferedFor(channelId: string): number {
    return this.channelStates.get(channelId)?.buffer.size ?? 0;
  }

  /** Highest seq delivered for the channel; undefined when the channel is not tracked. */
  lastDelivered(channelId: string): number | undefined {
    return this.channelStates.get(channelId)?.lastDelivered;
  }

  isTracked(channelId: string): boolean {
    return this.channelStates.has(channelId);
  }

  channels(): string[] {
    return [...this.channelStates.keys()];
  }

  /**
   * Starts tracking a channel as delivered up to `afterSeq`, or moves a tracked channel forward to
   * it (events at or below it are then treated as already seen). Never moves backwards, since
   * that would deliver events a second time.
   */
  track(channelId: string, afterSeq: number): void {
    if (!Number.isInteger(afterSeq) || afterSeq < 0) throw new RangeError(`invalid afterSeq ${afterSeq}`);
    const state = this.channelStates.get(channelId);
    if (!state) {
      this.channelStates.set(channelId, { lastDelivered: afterSeq, buffer: new Map(), gapReported: false });
      return;
    }
    if (afterSeq <= state.lastDelivered) return;
    state.lastDelivered = afterSeq;
    for (const seq of state.buffer.keys()) if (seq <= afterSeq) state.buffer.delete(seq);
    this.drain(channelId, state);
  }

  /** Stops tracking a channel (the user left it): drops its buffer and timer. */
  forget(channelId: string): void {
    const state = this.channelStates.get(channelId);
    if (state?.timer) clearTimeout(state.timer);
    this.channelStates.delete(channelId);
  }

  /** An untracked channel starts at 0: every event from seq 1 is expected. */
  push(event: E): PushResult {
    if (!event || typeof event.channelId !== 'string' || !Number.isInteger(event.seq) || event.seq < 1) {
      return { status: 'invalid', delivered: 0 };
    }
    let state = this.channelStates.get(event.channelId);
    if (!state) {
      state = { lastDelivered: 0, buffer: new Map(), gapReported: false };
      this.channelStates.set(event.channelId, state);
    }
    if (event.seq <= state.lastDelivered || state.buffer.has(event.seq)) {
      return { status: 'duplicate', delivered: 0 };
    }
    if (event.seq === state.lastDelivered + 1) {
      state.buffer.set(event.seq, event);
      return { status: 'delivered', delivered: this.drain(event.channelId, state) };
    }
    state.buffer.set(event.seq, event);
    if (state.buffer.size >= this.maxBufferedPerChannel && !state.gapReported) {
      this.reportGap(event.channelId, state);
    } else if (!state.timer && !state.gapReported) {
      this.armTimer(event.channelId, state);
    }
    return { status: 'buffered', delivered: 0 };
  }

  /** The channel's current hole, if any, without reporting it. */
  gap(channelId: string): Gap | undefined {
    const state = this.channelStates.get(channelId);
    return state ? this.describeGap(channelId, state) : undefined;
  }

  /** Reports the channel's hole now instead of when its window ends; returns it (or undefined). */
  flushGap(channelId: string): Gap | undefined {
    const state = this.channelStates.get(channelId);
    if (!state || state.buffer.size === 0) return undefined;
    return this.reportGap(channelId, state);
  }

  /** Reports every open hole now. */
  flushGaps(): Gap[] {
    const gaps: Gap[] = [];
    for (const channelId of this.channelStates.keys()) {
      const gap = this.flushGap(channelId);
      if (gap) gaps.push(gap);
    }
    return gaps;
  }

  /** Clears every timer; the sequencer stays usable but reports no gap until the next push. */
  dispose(): void {
    for (const state of this.channelStates.values()) {
      if (state.timer) clearTimeout(state.timer);
      state.timer = undefined;
    }
  }

  /**
   * Delivers contiguous events from the buffer. State moves before each callback so a throwing
   * listener cannot cause a redelivery; the first error is rethrown once the buffer is drained.
   */
  private drain(channelId: string, state: ChannelState<E>): number {
    let delivered = 0;
    let firstError: unknown;
    let failed = false;
    for (let next = state.buffer.get(state.lastDelivered + 1); next; next = state.buffer.get(state.lastDelivered + 1)) {
      state.buffer.delete(next.seq);
      state.lastDelivered = next.seq;
      delivered += 1;
      try {
        this.deliverEvent(next);
      } catch (error) {
        if (!failed) firstError = error;
        failed = true;
      }
    }
    if (delivered > 0) {
      // Progress closes the old episode: a hole still open is a new one with a fresh window.
      if (state.timer) clearTimeout(state.timer);
      state.timer = undefined;
      state.gapReported = false;
      if (state.buffer.size > 0 && this.channelStates.get(channelId) === state) this.armTimer(channelId, state);
    }
    if (failed) throw firstError;
    return delivered;
  }

  private armTimer(channelId: string, state: ChannelState<E>): void {
    state.timer = setTimeout(() => {
      state.timer = undefined;
      if (this.channelStates.get(channelId) === state && state.buffer.size > 0) this.reportGap(channelId, state);
    }, this.gapWindowMs);
    // A pending gap check should not keep a Node process alive on its own.
    (state.timer as { unref?: () => void }).unref?.();
  }

  private reportGap(channelId: string, state: ChannelState<E>): Gap | undefined {
    if (state.timer) clearTimeout(state.timer);
    state.timer = undefined;
    const gap = this.describeGap(channelId, state);
    if (!gap) return undefined;
    state.gapReported = true;
    this.onGap?.(gap);
    return gap;
  }

  private describeGap(channelId: string, state: ChannelState<E>): Gap | undefined {
    if (state.buffer.size === 0) return undefined;
    let lowest = Infinity;
    for (const seq of state.buffer.keys()) if (seq < lowest) lowest = seq;
    return {
      channelId,
      afterSeq: state.lastDelivered,
      fromSeq: state.lastDelivered + 1,
      toSeq: lowest - 1,
      buffered: state.buffer.size,
    };
  }
}
