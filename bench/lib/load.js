'use strict';
/** Parent side of the load generators: forks bench/lib/load-worker.js processes and talks RPC over IPC. */
const { fork } = require('node:child_process');
const path = require('node:path');
const { track, stopChild } = require('./procs');
const { Histogram } = require('./histogram');

const WORKER = path.join(__dirname, 'load-worker.js');

class LoadWorker {
  constructor(index) {
    this.index = index;
    this.nextId = 1;
    this.pending = new Map();
    this.child = track(
      fork(WORKER, [], {
        env: { ...process.env, BENCH_WORKER_ID: `w${index}` },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        execArgv: ['--max-old-space-size=1024'],
      }),
      `load-${index}`,
    );
    this.child.on('message', (msg) => {
      const entry = this.pending.get(msg.id);
      if (!entry) return;
      this.pending.delete(msg.id);
      clearTimeout(entry.timer);
      if (msg.ok) entry.resolve(msg.data);
      else entry.reject(new Error(`load-${index}: ${msg.error}`));
    });
    this.child.once('exit', (code, signal) => {
      for (const entry of this.pending.values()) {
        clearTimeout(entry.timer);
        entry.reject(new Error(`load-${index} exited (${code ?? signal})`));
      }
      this.pending.clear();
    });
  }

  call(cmd, args = {}, timeoutMs = 60_000) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`load-${this.index}: ${cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.child.send({ cmd, id, ...args });
    });
  }

  async close() {
    await this.call('close', {}, 5000).catch(() => undefined);
    await stopChild(this.child, 'SIGTERM', 2000);
  }
}

/** A pool of load worker processes sharing one set of clients between them, round-robin. */
class LoadPool {
  constructor(count) {
    this.workers = Array.from({ length: count }, (_, i) => new LoadWorker(i));
  }

  /**
   * Spreads `specs` ({token, auth?, sender?, senderIndex?}) over the workers; `urls` (one per server
   * node) are assigned round-robin per client, so with N nodes each node holds 1/N of the sockets.
   */
  async connect({ urls, channelId, specs, kind, concurrency = 20, localAddressOf = null, deadlineMs = 0 }) {
    const perWorker = this.workers.map(() => []);
    specs.forEach((spec, i) => perWorker[i % this.workers.length].push({ ...spec, url: urls[i % urls.length] }));
    const results = await Promise.all(
      this.workers.map(async (w, i) => {
        // One connect call per node URL this worker talks to.
        const byUrl = new Map();
        for (const spec of perWorker[i]) {
          if (!byUrl.has(spec.url)) byUrl.set(spec.url, []);
          byUrl.get(spec.url).push(spec);
        }
        const parts = [];
        for (const [url, clients] of byUrl) {
          const localAddress = localAddressOf ? localAddressOf(i) : undefined;
          parts.push(await w.call('connect', { url, channelId, clients, kind, concurrency, localAddress, deadlineMs }, 200_000));
        }
        return parts;
      }),
    );
    const flat = results.flat();
    return {
      connected: flat.reduce((a, r) => a + r.connected, 0),
      failed: flat.reduce((a, r) => a + r.failed, 0),
      failures: flat.reduce((acc, r) => {
        for (const [k, v] of Object.entries(r.failures)) acc[k] = (acc[k] ?? 0) + v;
        return acc;
      }, {}),
      ms: Math.max(...flat.map((r) => r.ms)),
    };
  }

  /** Runs one send step on every worker; resolves when every send of it has settled. */
  async step(args) {
    const parts = await Promise.all(this.workers.map((w) => w.call('step', args, args.durationMs + 30_000)));
    const ack = new Histogram();
    const merged = { attempted: 0, acked: 0, failed: 0, errors: {}, scheduleLagMaxMs: 0 };
    for (const p of parts) {
      merged.attempted += p.attempted;
      merged.acked += p.acked;
      merged.failed += p.failed;
      merged.scheduleLagMaxMs = Math.max(merged.scheduleLagMaxMs, p.scheduleLagMaxMs);
      for (const [k, v] of Object.entries(p.errors)) merged.errors[k] = (merged.errors[k] ?? 0) + v;
    }
    for (const p of parts) ack.merge(p.ackHist);
    merged.ack = ack.summary(); // send -> ack latency, as the senders saw it
    return merged;
  }

  async count(step) {
    const parts = await Promise.all(this.workers.map((w) => w.call('count', { step }, 10_000)));
    return parts.reduce((a, p) => a + p.received, 0);
  }

  async collect(step) {
    const parts = await Promise.all(this.workers.map((w) => w.call('collect', { step }, 20_000)));
    const hist = new Histogram();
    let received = 0;
    const counters = { late: 0, disconnects: 0, gaps: 0, foreign: 0, errors: {} };
    for (const p of parts) {
      received += p.received;
      hist.merge(p.hist);
      for (const k of ['late', 'disconnects', 'gaps', 'foreign']) counters[k] += p.counters[k];
      for (const [k, v] of Object.entries(p.counters.errors)) counters.errors[k] = (counters.errors[k] ?? 0) + v;
    }
    return { received, hist, counters };
  }

  /** storm: every worker starts checking its SDK clients' seqs from their current position. */
  async mark() {
    return Promise.all(this.workers.map((w) => w.call('mark', {}, 20_000)));
  }

  /** storm: waits until every client is ready and at `heads` (or timeoutMs); merged per-client resync times. */
  async watch({ heads, before, t0, timeoutMs }) {
    const parts = await Promise.all(this.workers.map((w) => w.call('watch', { heads, before, t0, timeoutMs }, timeoutMs + 30_000)));
    const hist = new Histogram();
    const out = { total: 0, ready: 0, resynced: 0, delivered: 0, seqViolations: 0, wrongDeliveryCount: 0, disconnects: 0, errors: {} };
    for (const p of parts) {
      for (const k of Object.keys(out)) if (typeof out[k] === 'number') out[k] += p[k];
      for (const [k, v] of Object.entries(p.errors)) out.errors[k] = (out.errors[k] ?? 0) + v;
      hist.merge(p.hist);
    }
    const times = (key, pick) => {
      const v = parts.map((p) => p[key]).filter((x) => x !== null);
      return v.length === parts.length ? pick(...v) : null; // null: some worker never got there
    };
    out.allReadyMs = times('allReadyMs', Math.max);
    out.lastResyncedMs = times('lastResyncedMs', Math.max);
    out.firstResyncedMs = parts.map((p) => p.firstResyncedMs).filter((x) => x !== null).reduce((a, b) => Math.min(a, b), Infinity);
    if (out.firstResyncedMs === Infinity) out.firstResyncedMs = null;
    out.resyncTimes = hist.summary();
    return out;
  }

  async clientCounts() {
    return Promise.all(this.workers.map((w) => w.call('clientCount', {}, 10_000)));
  }

  async close() {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}

module.exports = { LoadPool };
