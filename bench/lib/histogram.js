'use strict';
/**
 * Latency histogram, compact enough to send over IPC: 0.1 ms buckets below 100 ms, 1 ms buckets
 * from 100 ms to 60 s, one overflow bucket. Percentiles answer the upper edge of the bucket (so a
 * reported p99 <= 100 ms means at least 99 % of samples were below 100.0 ms).
 */
const FINE_MS = 100;
const FINE_STEP = 0.1;
const FINE_BUCKETS = Math.round(FINE_MS / FINE_STEP); // 1000
const MAX_MS = 60_000;
const COARSE_BUCKETS = MAX_MS - FINE_MS; // 59,900
const SIZE = FINE_BUCKETS + COARSE_BUCKETS + 1;

function bucketOf(ms) {
  if (!(ms > 0)) return 0; // clock noise can give tiny negatives
  if (ms < FINE_MS) return Math.floor(ms / FINE_STEP);
  if (ms < MAX_MS) return FINE_BUCKETS + Math.floor(ms - FINE_MS);
  return SIZE - 1;
}

function upperEdge(index) {
  if (index < FINE_BUCKETS) return Math.round((index + 1) * FINE_STEP * 10) / 10;
  if (index < SIZE - 1) return FINE_MS + (index - FINE_BUCKETS) + 1;
  return Infinity;
}

class Histogram {
  constructor() {
    this.counts = new Uint32Array(SIZE);
    this.total = 0;
    this.sum = 0;
    this.max = 0;
  }

  add(ms) {
    this.counts[bucketOf(ms)]++;
    this.total++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  /** Sparse form for IPC: {b: [[index, count], ...], total, sum, max}. */
  toJSON() {
    const b = [];
    for (let i = 0; i < SIZE; i++) if (this.counts[i]) b.push([i, this.counts[i]]);
    return { b, total: this.total, sum: this.sum, max: this.max };
  }

  merge(sparse) {
    if (!sparse) return this;
    for (const [i, n] of sparse.b) this.counts[i] += n;
    this.total += sparse.total;
    this.sum += sparse.sum;
    if (sparse.max > this.max) this.max = sparse.max;
    return this;
  }

  percentile(p) {
    if (this.total === 0) return null;
    const rank = Math.ceil((p / 100) * this.total);
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.counts[i];
      if (seen >= rank) return upperEdge(i);
    }
    return Infinity;
  }

  summary() {
    return {
      samples: this.total,
      meanMs: this.total ? Math.round((this.sum / this.total) * 100) / 100 : null,
      p50Ms: this.percentile(50),
      p90Ms: this.percentile(90),
      p99Ms: this.percentile(99),
      p999Ms: this.percentile(99.9),
      maxMs: Math.round(this.max * 10) / 10,
    };
  }
}

module.exports = { Histogram };
