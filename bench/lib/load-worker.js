'use strict';
/**
 * Load generator process, forked by the harness (child_process.fork). Holds many client
 * connections (websocket transport only, loopback only) to one server, sends at the rate the
 * parent asks for, and measures send-to-receive latency: each message body carries its send time
 * (performance.timeOrigin + performance.now(), the same machine clock in every process), and the
 * receiver subtracts it from its own clock on arrival. Results go back to the parent as compact
 * histograms (see histogram.js), never raw sample arrays.
 *
 * Client kinds: `sdk` (the project's PigeonClient, client/dist: ordered exactly-once delivery,
 * what an app sees) or `raw` (bare socket.io-client, `event` as it comes off the wire).
 *
 * IPC from the parent (each answered with a message of the same `id`):
 *   {cmd:'connect', id, url, channelId, clients:[{token, auth?, sender?, senderIndex?}], kind, concurrency}
 *   {cmd:'step', id, step, startAt, durationMs, totalRate, senderCount, bodyBytes}
 *     -> answered when every send of the step has been acked or has failed
 *   {cmd:'count', id, step}   -> {received}
 *   {cmd:'collect', id, step} -> {received, hist, ...}; the step's stats are dropped afterwards
 *   {cmd:'close', id}
 */
const path = require('node:path');
const { Histogram } = require('./histogram');

const ORIGIN = performance.timeOrigin;
const now = () => ORIGIN + performance.now();
const workerId = process.env.BENCH_WORKER_ID ?? String(process.pid);

let PigeonClient;
let io;
const clients = []; // {send(payload): Promise, close(), sender, senderIndex}
const steps = new Map(); // step -> {received, hist}
const collected = new Set();
const counters = { late: 0, disconnects: 0, gaps: 0, errors: {}, foreign: 0 };
let channelId = null;

function stepStats(step) {
  let s = steps.get(step);
  if (!s) {
    s = { received: 0, hist: new Histogram() };
    steps.set(step, s);
  }
  return s;
}

function onMessageCreated(body) {
  if (typeof body !== 'string' || !body.startsWith('bench:')) {
    counters.foreign++;
    return;
  }
  const second = body.indexOf(':', 6);
  const third = body.indexOf(':', second + 1);
  const step = Number(body.slice(6, second));
  const sentAt = Number(body.slice(second + 1, third));
  if (collected.has(step)) {
    counters.late++;
    return;
  }
  const s = stepStats(step);
  s.received++;
  s.hist.add(now() - sentAt);
}

function countError(code) {
  counters.errors[code] = (counters.errors[code] ?? 0) + 1;
}

function makeSdkClient(url, spec) {
  PigeonClient ??= require(path.resolve(__dirname, '..', '..', 'client', 'dist', 'index.js')).PigeonClient;
  const client = new PigeonClient({
    url,
    token: spec.token,
    requestTimeoutMs: 10_000,
    readyTimeoutMs: 60_000,
    // The baseline takes its rooms from the handshake; Pigeon ignores the extra field.
    ioOptions: { forceNew: true, ...(spec.auth ? { auth: spec.auth } : {}), ...(spec.localAddress ? { localAddress: spec.localAddress } : {}) },
  });
  // storm: the seqs this client delivered for its channel after `mark`, checked for holes/repeats.
  const track = { channelId: spec.channelId ?? null, prev: null, delivered: 0, violations: 0, resyncedAt: null, reconnected: false };
  client.on('reconnect', () => {
    track.reconnected = true; // a `ready` after the first one
  });
  client.on('event', (event) => {
    if (event.type === 'message.created') onMessageCreated(event.data && event.data.body);
    if (track.prev !== null && event.channelId === track.channelId) {
      if (event.seq !== track.prev + 1) track.violations++;
      track.prev = event.seq;
      track.delivered++;
    }
  });
  client.on('disconnect', () => counters.disconnects++);
  client.on('gap', () => counters.gaps++);
  client.on('error', (error) => countError(`sdk:${error.code ?? error.message}`.slice(0, 80)));
  return {
    connect: () => client.connect(),
    send: (payload) => client.send(payload, { maxAttempts: 1, attemptTimeoutMs: 10_000, deadlineMs: 12_000 }),
    close: () => client.disconnect(),
    sdk: client,
    track,
  };
}

function makeRawClient(url, spec) {
  io ??= require('socket.io-client').io;
  const socket = io(`${url}/rt`, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    autoConnect: false,
    auth: spec.auth ?? { token: spec.token },
    // connections: spread sockets over 127.0.0.x source addresses (loopback only).
    ...(spec.localAddress ? { localAddress: spec.localAddress } : {}),
  });
  socket.on('event', (event) => {
    if (event && event.type === 'message.created') onMessageCreated(event.data && event.data.body);
  });
  socket.on('disconnect', () => counters.disconnects++);
  return {
    connect: () =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('TIMEOUT no ready')), 60_000);
        socket.once('ready', (payload) => {
          clearTimeout(timer);
          resolve(payload);
        });
        socket.once('connect_error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        socket.connect();
      }),
    send: (payload) =>
      new Promise((resolve, reject) => {
        socket.timeout(10_000).emit('message:send', payload, (err, answer) => {
          if (err) return reject(Object.assign(new Error('timeout'), { code: 'DEADLINE_EXCEEDED' }));
          if (answer && answer.ok) return resolve(answer.data);
          reject(Object.assign(new Error('refused'), { code: (answer && answer.error && answer.error.code) || 'BAD_ACK' }));
        });
      }),
    close: () => socket.close(),
  };
}

async function connectAll(msg) {
  channelId = msg.channelId;
  const specs = msg.clients;
  const make = msg.kind === 'raw' ? makeRawClient : makeSdkClient;
  let next = 0;
  let ok = 0;
  const failures = {};
  const started = Date.now();
  const deadline = started + 180_000;
  const deadline2 = msg.deadlineMs ? started + msg.deadlineMs : deadline;
  async function lane() {
    while (next < specs.length && Date.now() < Math.min(deadline, deadline2)) {
      const spec = msg.localAddress ? { ...specs[next++], localAddress: msg.localAddress } : specs[next++];
      const client = make(msg.url, spec);
      try {
        await client.connect();
        clients.push({ ...client, sender: !!spec.sender, senderIndex: spec.senderIndex, channelId: spec.channelId ?? null });
        ok++;
      } catch (error) {
        const key = String((error && (error.code || error.message)) || error).slice(0, 80);
        failures[key] = (failures[key] ?? 0) + 1;
        try {
          client.close();
        } catch {
          /* ignore */
        }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, msg.concurrency ?? 20) }, lane));
  return { connected: ok, failed: specs.length - ok, failures, ms: Date.now() - started };
}

function padBody(prefix, bytes) {
  return prefix.length >= bytes ? prefix : prefix + 'x'.repeat(bytes - prefix.length);
}

/** Open-loop sending: sender k sends at startAt + (k/S + i) * interval, not waiting for acks. */
function runStep(msg) {
  const senders = clients.filter((c) => c.sender);
  const perSender = msg.totalRate / msg.senderCount;
  const interval = 1000 / perSender;
  const end = msg.startAt + msg.durationMs;
  const ackHist = new Histogram();
  const result = { step: msg.step, attempted: 0, acked: 0, failed: 0, errors: {}, senders: senders.length, scheduleLagMaxMs: 0 };
  const pending = new Set();
  const plan = senders.map((c) => ({ client: c, next: msg.startAt + (c.senderIndex / msg.senderCount) * interval, i: 0 }));
  const maxPerSender = Math.ceil(msg.durationMs / interval) + 1; // bounds the loop by count as well as time

  return new Promise((resolve) => {
    const finish = async () => {
      // Every send settles: acked, refused, or the 10 s attempt timeout.
      await Promise.allSettled([...pending]);
      result.ackHist = ackHist.toJSON();
      resolve(result);
    };
    const tick = () => {
      const t = now();
      let nextDue = Infinity;
      for (const p of plan) {
        while (p.next <= t && p.next < end && p.i < maxPerSender) {
          const sentAt = now();
          result.scheduleLagMaxMs = Math.max(result.scheduleLagMaxMs, sentAt - p.next);
          const body = padBody(`bench:${msg.step}:${sentAt.toFixed(3)}:`, msg.bodyBytes);
          const clientMsgId = `b${msg.step}-${workerId}-${p.client.senderIndex}-${p.i}`;
          result.attempted++;
          const promise = p.client
            .send({ channelId: p.client.channelId ?? channelId, body, clientMsgId })
            .then(
              () => {
                result.acked++;
                ackHist.add(now() - sentAt);
              },
              (error) => {
                result.failed++;
                const code = String((error && (error.code || error.message)) || error).slice(0, 60);
                result.errors[code] = (result.errors[code] ?? 0) + 1;
              },
            )
            .finally(() => pending.delete(promise));
          pending.add(promise);
          p.next += interval;
          p.i++;
        }
        if (p.next < end && p.i < maxPerSender) nextDue = Math.min(nextDue, p.next);
      }
      if (nextDue === Infinity) return void finish();
      setTimeout(tick, Math.max(0, nextDue - now()));
    };
    setTimeout(tick, Math.max(0, msg.startAt - now()));
  });
}

/** storm: start checking each SDK client's channel seqs from where it is now. */
function mark() {
  for (const c of clients) {
    if (!c.track) continue;
    c.track.prev = c.sdk.lastSeq(c.track.channelId) ?? 0;
    c.track.delivered = 0;
    c.track.violations = 0;
    c.track.resyncedAt = null;
    c.track.reconnected = false;
  }
  return { marked: clients.length, positions: clients.slice(0, 3).map((c) => c.track && c.track.prev) };
}

/**
 * storm: polls every 50 ms until every client is ready again and delivered up to its channel's head
 * (heads: {channelId: seq}), or the deadline. Times are ms since `t0` (epoch ms, e.g. the kill).
 */
function watch(msg) {
  const { Histogram: H } = require('./histogram');
  const deadline = Date.now() + msg.timeoutMs;
  return new Promise((resolve) => {
    let allReadyAt = null;
    const poll = () => {
      const t = Date.now();
      let ready = 0;
      let resynced = 0;
      for (const c of clients) {
        if (!c.track) continue;
        const isReady = c.sdk.isReady && c.track.reconnected; // ready again after the drop
        if (isReady) ready++;
        const head = msg.heads[c.track.channelId] ?? 0;
        if (c.track.resyncedAt === null && isReady && (c.sdk.lastSeq(c.track.channelId) ?? 0) >= head) c.track.resyncedAt = t;
        if (c.track.resyncedAt !== null) resynced++;
      }
      if (allReadyAt === null && ready === clients.length) allReadyAt = t;
      if (resynced === clients.length || t > deadline) {
        const hist = new H();
        let delivered = 0;
        let violations = 0;
        let wrongCount = 0;
        for (const c of clients) {
          if (c.track.resyncedAt !== null) hist.add(c.track.resyncedAt - msg.t0);
          delivered += c.track.delivered;
          violations += c.track.violations;
          const expected = (msg.heads[c.track.channelId] ?? 0) - (msg.before?.[c.track.channelId] ?? 0);
          if (c.track.resyncedAt !== null && c.track.delivered !== expected) wrongCount++;
        }
        const times = clients.map((c) => c.track.resyncedAt).filter((x) => x !== null);
        resolve({
          total: clients.length,
          ready,
          resynced,
          allReadyMs: allReadyAt === null ? null : allReadyAt - msg.t0,
          lastResyncedMs: times.length ? Math.max(...times) - msg.t0 : null,
          firstResyncedMs: times.length ? Math.min(...times) - msg.t0 : null,
          hist: hist.toJSON(),
          delivered,
          seqViolations: violations,
          wrongDeliveryCount: wrongCount,
          errors: { ...counters.errors },
          disconnects: counters.disconnects,
        });
        return;
      }
      setTimeout(poll, 50);
    };
    poll();
  });
}

async function handle(msg) {
  switch (msg.cmd) {
    case 'mark':
      return mark();
    case 'watch':
      return watch(msg);
    case 'clientCount':
      return { clients: clients.length, memoryRssKb: Math.round(process.memoryUsage().rss / 1024) };
    case 'connect':
      return connectAll(msg);
    case 'step':
      return runStep(msg);
    case 'count':
      return { received: steps.get(msg.step)?.received ?? 0 };
    case 'collect': {
      const s = stepStats(msg.step);
      steps.delete(msg.step);
      collected.add(msg.step);
      const out = { received: s.received, hist: s.hist.toJSON(), counters: { ...counters, errors: { ...counters.errors } } };
      return out;
    }
    case 'close':
      for (const c of clients) {
        try {
          c.close();
        } catch {
          /* ignore */
        }
      }
      clients.length = 0;
      setTimeout(() => process.exit(0), 200);
      return { closed: true };
    default:
      throw new Error(`unknown cmd ${msg.cmd}`);
  }
}

process.on('message', (msg) => {
  handle(msg).then(
    (data) => process.send({ id: msg.id, ok: true, data }),
    (error) => process.send({ id: msg.id, ok: false, error: String((error && error.stack) || error) }),
  );
});
process.on('disconnect', () => process.exit(0)); // the harness is gone
