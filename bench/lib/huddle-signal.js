'use strict';
/**
 * Huddle signaling round trip, part of `npm run bench -- voice`: two API nodes (its own, on the voice
 * run's database and Redis), participant A on node 0 and B on node 1 in one channel's huddle. A sends
 * `huddle:signal` (an ICE candidate carrying a sequence number) to B; B, on receipt, signals it back;
 * A measures send -> receipt of the echo. So each sample is two relays across the Redis adapter, each
 * with its checks (membership, both sockets in the huddle). One signal in flight at a time.
 */
const { connectReadySocket } = require('./socket');

const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : null);
const r2 = (x) => (x === null ? null : Math.round(x * 100) / 100);

async function huddleRoundTrip({ redisUrl, users, channelId, samples, warmup, log }) {
  const { startApiNodes, stopAll } = require('./pigeon');
  const nodes = await startApiNodes(2, { redisUrl, extraEnv: { HUDDLE_SIGNAL_BURST: '10000000', HUDDLE_SIGNAL_RATE_PER_SECOND: '10000000' } });
  const sockets = [];
  try {
    const a = await connectReadySocket(nodes[0].url, users[0].token);
    const b = await connectReadySocket(nodes[1].url, users[1].token);
    sockets.push(a, b);
    for (const s of [a, b]) {
      const ack = await s.timeout(10_000).emitWithAck('huddle:join', { channelId });
      if (!ack.ok) throw new Error(`huddle:join: ${JSON.stringify(ack.error)}`);
    }
    b.on('huddle:signal', (m) => {
      b.emit('huddle:signal', { channelId, toSocketId: m.fromSocketId, signal: m.signal }, () => undefined);
    });
    const pending = new Map();
    a.on('huddle:signal', (m) => {
      const resolve = pending.get(m.signal.candidate.candidate);
      if (resolve) resolve(performance.now());
    });
    const once = async (n) => {
      const key = `candidate:${n} 1 udp 2122260223 192.0.2.1 ${10000 + (n % 50000)} typ host`;
      let timer;
      const got = new Promise((resolve, reject) => {
        pending.set(key, resolve);
        timer = setTimeout(() => reject(new Error(`round trip ${n} timed out`)), 10_000);
      });
      const start = performance.now();
      a.emit('huddle:signal', { channelId, toSocketId: b.id, signal: { type: 'candidate', candidate: { candidate: key, sdpMid: '0', sdpMLineIndex: 0 } } }, (ack) => {
        if (!ack.ok) log(`  huddle:signal refused: ${JSON.stringify(ack.error)}`);
      });
      const end = await got.finally(() => clearTimeout(timer));
      pending.delete(key);
      return end - start;
    };
    for (let i = 0; i < warmup; i++) await once(-1 - i);
    const times = [];
    for (let i = 0; i < samples; i++) times.push(await once(i));
    times.sort((x, y) => x - y);
    const out = { samples: times.length, p50Ms: r2(pct(times, 50)), p90Ms: r2(pct(times, 90)), p99Ms: r2(pct(times, 99)), maxMs: r2(times[times.length - 1]) };
    log(`  huddle signal round trip A(node 0) -> B(node 1) -> A: ${out.samples} samples, p50 ${out.p50Ms} ms, p99 ${out.p99Ms} ms, max ${out.maxMs} ms`);
    return out;
  } finally {
    for (const s of sockets) s.close();
    await stopAll(nodes);
  }
}

module.exports = { huddleRoundTrip };
