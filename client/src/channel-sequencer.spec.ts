import { jest } from '@jest/globals';
import { ChannelSequencer, type Gap, type SequencedEvent } from './channel-sequencer';

interface TestEvent extends SequencedEvent {
  label?: string;
}

function event(seq: number, channelId = 'c1'): TestEvent {
  return { channelId, seq, label: `${channelId}#${seq}` };
}

function setup(options: { gapWindowMs?: number; maxBufferedPerChannel?: number } = {}) {
  const delivered: TestEvent[] = [];
  const gaps: Gap[] = [];
  const sequencer = new ChannelSequencer<TestEvent>({
    deliver: (e) => delivered.push(e),
    onGap: (gap) => gaps.push(gap),
    ...options,
  });
  const seqs = (channelId = 'c1') => delivered.filter((e) => e.channelId === channelId).map((e) => e.seq);
  return { sequencer, delivered, gaps, seqs };
}

/** Deterministic PRNG so a failing stress run can be replayed. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

describe('ChannelSequencer', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('delivers in-order events at once', () => {
    const { sequencer, seqs } = setup();
    expect(sequencer.push(event(1))).toEqual({ status: 'delivered', delivered: 1 });
    expect(sequencer.push(event(2))).toEqual({ status: 'delivered', delivered: 1 });
    expect(sequencer.push(event(3))).toEqual({ status: 'delivered', delivered: 1 });
    expect(seqs()).toEqual([1, 2, 3]);
    expect(sequencer.lastDelivered('c1')).toBe(3);
    expect(sequencer.buffered).toBe(0);
  });

  it('holds out-of-order events until the hole fills, then releases them in order', () => {
    const { sequencer, seqs, gaps } = setup();
    sequencer.push(event(1));
    expect(sequencer.push(event(3)).status).toBe('buffered');
    expect(sequencer.push(event(4)).status).toBe('buffered');
    expect(sequencer.buffered).toBe(2);
    expect(sequencer.bufferedFor('c1')).toBe(2);
    expect(seqs()).toEqual([1]);
    expect(sequencer.push(event(2))).toEqual({ status: 'delivered', delivered: 3 });
    expect(seqs()).toEqual([1, 2, 3, 4]);
    expect(sequencer.buffered).toBe(0);
    jest.advanceTimersByTime(1000);
    expect(gaps).toEqual([]);
  });

  it('drops duplicates, delivered or buffered', () => {
    const { sequencer, seqs } = setup();
    sequencer.push(event(1));
    sequencer.push(event(2));
    expect(sequencer.push(event(1)).status).toBe('duplicate');
    expect(sequencer.push(event(2)).status).toBe('duplicate');
    sequencer.push(event(4));
    expect(sequencer.push(event(4)).status).toBe('duplicate');
    expect(sequencer.bufferedFor('c1')).toBe(1);
    sequencer.push(event(3));
    expect(sequencer.push(event(3)).status).toBe('duplicate');
    expect(seqs()).toEqual([1, 2, 3, 4]);
  });

  it('rejects malformed events without touching state', () => {
    const { sequencer, delivered } = setup();
    expect(sequencer.push(event(0)).status).toBe('invalid');
    expect(sequencer.push(event(1.5)).status).toBe('invalid');
    expect(sequencer.push({ channelId: 'c1', seq: Number.NaN }).status).toBe('invalid');
    expect(delivered).toEqual([]);
    expect(sequencer.isTracked('c1')).toBe(false);
  });

  it('keeps channels independent', () => {
    const { sequencer, seqs } = setup();
    sequencer.push(event(1, 'a'));
    sequencer.push(event(2, 'b'));
    sequencer.push(event(1, 'b'));
    sequencer.push(event(2, 'a'));
    expect(seqs('a')).toEqual([1, 2]);
    expect(seqs('b')).toEqual([1, 2]);
    expect(sequencer.channels().sort()).toEqual(['a', 'b']);
  });

  describe('gap detection', () => {
    it('reports a hole only once the window has passed', () => {
      const { sequencer, gaps } = setup({ gapWindowMs: 200 });
      sequencer.push(event(1));
      sequencer.push(event(4));
      sequencer.push(event(5));
      jest.advanceTimersByTime(199);
      expect(gaps).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(gaps).toEqual([{ channelId: 'c1', afterSeq: 1, fromSeq: 2, toSeq: 3, buffered: 2 }]);
    });

    it('does not report a hole filled within the window', () => {
      const { sequencer, gaps, seqs } = setup({ gapWindowMs: 200 });
      sequencer.push(event(1));
      sequencer.push(event(3));
      jest.advanceTimersByTime(150);
      sequencer.push(event(2));
      jest.advanceTimersByTime(1000);
      expect(gaps).toEqual([]);
      expect(seqs()).toEqual([1, 2, 3]);
    });

    it('starts the window at the first out-of-order event, not at later ones', () => {
      const { sequencer, gaps } = setup({ gapWindowMs: 200 });
      sequencer.push(event(3));
      jest.advanceTimersByTime(150);
      sequencer.push(event(4));
      jest.advanceTimersByTime(50);
      expect(gaps).toHaveLength(1);
      expect(gaps[0]).toMatchObject({ afterSeq: 0, fromSeq: 1, toSeq: 2 });
    });

    it('reports once per hole, and opens a fresh window after partial progress', () => {
      const { sequencer, gaps } = setup({ gapWindowMs: 200 });
      sequencer.push(event(1));
      sequencer.push(event(3));
      sequencer.push(event(6));
      jest.advanceTimersByTime(200);
      expect(gaps).toHaveLength(1);
      jest.advanceTimersByTime(5000);
      expect(gaps).toHaveLength(1);
      // seq 2 closes the first hole; 4..5 are still missing behind 6.
      sequencer.push(event(2));
      expect(sequencer.lastDelivered('c1')).toBe(3);
      jest.advanceTimersByTime(199);
      expect(gaps).toHaveLength(1);
      jest.advanceTimersByTime(1);
      expect(gaps[1]).toEqual({ channelId: 'c1', afterSeq: 3, fromSeq: 4, toSeq: 5, buffered: 1 });
    });

    it('reports at once on request', () => {
      const { sequencer, gaps } = setup({ gapWindowMs: 200 });
      sequencer.push(event(1, 'a'));
      sequencer.push(event(3, 'a'));
      sequencer.push(event(2, 'b'));
      expect(sequencer.flushGap('a')).toEqual({ channelId: 'a', afterSeq: 1, fromSeq: 2, toSeq: 2, buffered: 1 });
      expect(gaps).toHaveLength(1);
      expect(sequencer.flushGaps().map((gap) => gap.channelId).sort()).toEqual(['a', 'b']);
      expect(gaps).toHaveLength(3);
      // The pending window timers were cleared by the flush.
      jest.advanceTimersByTime(1000);
      expect(gaps).toHaveLength(3);
      expect(sequencer.flushGap('missing')).toBeUndefined();
    });

    it('exposes the current hole without reporting it', () => {
      const { sequencer, gaps } = setup();
      sequencer.push(event(1));
      expect(sequencer.gap('c1')).toBeUndefined();
      sequencer.push(event(5));
      expect(sequencer.gap('c1')).toEqual({ channelId: 'c1', afterSeq: 1, fromSeq: 2, toSeq: 4, buffered: 1 });
      expect(gaps).toEqual([]);
    });

    it('reports early when too many events wait behind a hole', () => {
      const { sequencer, gaps } = setup({ gapWindowMs: 200, maxBufferedPerChannel: 3 });
      sequencer.push(event(2));
      sequencer.push(event(3));
      expect(gaps).toEqual([]);
      sequencer.push(event(4));
      expect(gaps).toEqual([{ channelId: 'c1', afterSeq: 0, fromSeq: 1, toSeq: 1, buffered: 3 }]);
    });

    it('stops reporting for a forgotten channel', () => {
      const { sequencer, gaps } = setup();
      sequencer.push(event(3));
      sequencer.forget('c1');
      jest.advanceTimersByTime(1000);
      expect(gaps).toEqual([]);
      expect(sequencer.isTracked('c1')).toBe(false);
    });

    it('stops reporting after dispose', () => {
      const { sequencer, gaps } = setup();
      sequencer.push(event(3));
      sequencer.dispose();
      jest.advanceTimersByTime(1000);
      expect(gaps).toEqual([]);
    });
  });

  describe('tracking', () => {
    it('starts a channel at a known seq and drops what came before', () => {
      const { sequencer, seqs } = setup();
      sequencer.track('c1', 10);
      expect(sequencer.lastDelivered('c1')).toBe(10);
      expect(sequencer.push(event(10)).status).toBe('duplicate');
      expect(sequencer.push(event(11)).status).toBe('delivered');
      expect(seqs()).toEqual([11]);
    });

    it('moves forward only, releasing buffered events above the new mark', () => {
      const { sequencer, seqs } = setup();
      sequencer.push(event(1));
      sequencer.push(event(3));
      sequencer.push(event(5));
      sequencer.track('c1', 0);
      expect(sequencer.lastDelivered('c1')).toBe(1);
      sequencer.track('c1', 4);
      expect(seqs()).toEqual([1, 5]);
      expect(sequencer.lastDelivered('c1')).toBe(5);
      expect(sequencer.buffered).toBe(0);
    });

    it('rejects a negative or fractional mark', () => {
      const { sequencer } = setup();
      expect(() => sequencer.track('c1', -1)).toThrow(RangeError);
      expect(() => sequencer.track('c1', 1.5)).toThrow(RangeError);
    });
  });

  it('fills a reported gap from a sync page, dropping the overlap with live events', () => {
    const { sequencer, gaps, seqs } = setup({ gapWindowMs: 200 });
    sequencer.track('c1', 5);
    sequencer.push(event(6));
    sequencer.push(event(9));
    sequencer.push(event(10));
    jest.advanceTimersByTime(200);
    expect(gaps).toEqual([{ channelId: 'c1', afterSeq: 6, fromSeq: 7, toSeq: 8, buffered: 2 }]);
    // What the client does: sync after afterSeq; the page runs to the head and overlaps the buffer.
    const page = [7, 8, 9, 10, 11].map((seq) => event(seq));
    const statuses = page.map((e) => sequencer.push(e).status);
    expect(statuses).toEqual(['delivered', 'delivered', 'duplicate', 'duplicate', 'delivered']);
    expect(seqs()).toEqual([6, 7, 8, 9, 10, 11]);
    expect(sequencer.buffered).toBe(0);
    jest.advanceTimersByTime(1000);
    expect(gaps).toHaveLength(1);
  });

  it('keeps state consistent when a listener throws', () => {
    const delivered: number[] = [];
    const sequencer = new ChannelSequencer<TestEvent>({
      deliver: (e) => {
        delivered.push(e.seq);
        if (e.seq === 2) throw new Error('listener failed');
      },
    });
    sequencer.push(event(1));
    sequencer.push(event(3));
    expect(() => sequencer.push(event(2))).toThrow('listener failed');
    expect(delivered).toEqual([1, 2, 3]);
    expect(sequencer.lastDelivered('c1')).toBe(3);
    expect(sequencer.push(event(2)).status).toBe('duplicate');
  });

  it.each([1, 2, 3, 42, 1234])('delivers exactly 1..1000 in order from a shuffled stream with duplicates (seed %i)', (seed) => {
    const random = mulberry32(seed);
    const { sequencer, seqs, delivered } = setup({ gapWindowMs: 200 });
    const stream: TestEvent[] = [];
    for (let seq = 1; seq <= 1000; seq++) {
      stream.push(event(seq));
      // Roughly a third of the events arrive twice or three times (two nodes, plus a sync).
      if (random() < 0.3) stream.push(event(seq));
      if (random() < 0.05) stream.push(event(seq));
    }
    shuffle(stream, random);
    let duplicates = 0;
    for (const e of stream) {
      if (sequencer.push(e).status === 'duplicate') duplicates += 1;
      if (random() < 0.01) jest.advanceTimersByTime(250);
    }
    expect(seqs()).toEqual(Array.from({ length: 1000 }, (_, index) => index + 1));
    expect(delivered).toHaveLength(1000);
    expect(duplicates).toBe(stream.length - 1000);
    expect(sequencer.buffered).toBe(0);
    expect(sequencer.lastDelivered('c1')).toBe(1000);
  });
});
