'use strict';
/**
 * history: one channel with `messages` (1M) messages seeded directly with SQL (messages +
 * channel_events with gap-free seqs and head_seq; the events' jsonb built with jsonb_build_object
 * in the API's own message.created shape), then
 *   - REST page fetch: GET /api/workspaces/:wid/channels/:cid/messages?before=<random seq>&limit=50
 *   - socket `sync` of 500 events from a random afterSeq (`sync {channels:[{channelId, afterSeq}], limit:500}`)
 * `requests` of each at `concurrency` in flight (and a short serial pass), p50/p99 as the client
 * sees them (the harness process, on the same machine). No baseline: a bare Socket.IO server has no history.
 */
const { connectReadySocket } = require('../lib/socket');
const { startPrivateRedis } = require('../lib/procs');
const { freshDatabase, startApiNodes, stopAll, BENCH_REDIS_URL } = require('../lib/pigeon');
const { connectDb, seedWorkspaces, insertRange } = require('../lib/seed');
const { Histogram } = require('../lib/histogram');

const DEFAULTS = {
  messages: 1_000_000,
  chunk: 100_000,
  requests: 2000,
  concurrency: 4,
  serialRequests: 200,
  pageLimit: 50,
  syncLimit: 500,
  p99LimitMs: 20,
};

const randInt = (lo, hi) => lo + Math.floor(Math.random() * (hi - lo + 1));

async function measure(n, concurrency, fn) {
  const hist = new Histogram();
  const errors = {};
  let next = 0;
  const started = Date.now();
  const lane = async () => {
    while (next < n) {
      next++;
      const t = performance.now();
      try {
        await fn();
        hist.add(performance.now() - t);
      } catch (error) {
        const k = String(error && error.message).slice(0, 80);
        errors[k] = (errors[k] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const sec = (Date.now() - started) / 1000;
  return { ...hist.summary(), requests: n, concurrency, perSec: Math.round(hist.total / sec), errors };
}

async function run(cfgIn, { log }) {
  const cfg = { ...DEFAULTS, ...cfgIn };
  const redis = await startPrivateRedis(BENCH_REDIS_URL);
  const out = {};
  await freshDatabase();
  const nodes = await startApiNodes(1, { redisUrl: redis.url });
  const db = await connectDb();
  const sockets = [];
  try {
    const seed = await seedWorkspaces(db, { workspaces: 1, channelsPerWorkspace: 1, usersPerWorkspace: 2, log });
    const user = seed.users[0];
    const channelId = user.channelId;
    const workspaceId = user.workspaceId;
    log(`  seeding ${cfg.messages.toLocaleString('en-US')} messages + channel_events into one channel by SQL (chunks of ${cfg.chunk.toLocaleString('en-US')}, synchronous_commit off for this session)`);
    await db.query('SET synchronous_commit = off');
    const seedStarted = Date.now();
    for (let from = 1; from <= cfg.messages; from += cfg.chunk) {
      const to = Math.min(cfg.messages, from + cfg.chunk - 1);
      await db.query('BEGIN');
      await insertRange(db, { channelId, workspaceId, authorId: user.id, from, to, bodyPrefix: 'h' });
      await db.query('COMMIT');
      log(`    seq ${to.toLocaleString('en-US')} (${((Date.now() - seedStarted) / 1000).toFixed(0)} s)`);
    }
    await db.query('ANALYZE messages');
    await db.query('ANALYZE channel_events');
    const seedSec = Math.round((Date.now() - seedStarted) / 100) / 10;
    const { rows: check } = await db.query(
      `SELECT c.head_seq, (SELECT count(*) FROM messages WHERE channel_id = $1) AS m, (SELECT count(*) FROM channel_events WHERE channel_id = $1) AS e,
              pg_size_pretty(pg_total_relation_size('messages')) AS msize, pg_size_pretty(pg_total_relation_size('channel_events')) AS esize
         FROM channels c WHERE c.id = $1`,
      [channelId],
    );
    log(`  seeded in ${seedSec} s: head_seq ${check[0].head_seq}, ${check[0].m} messages (${check[0].msize}), ${check[0].e} events (${check[0].esize})`);
    if (Number(check[0].head_seq) !== cfg.messages || Number(check[0].m) !== cfg.messages || Number(check[0].e) !== cfg.messages) throw new Error('seed check failed');

    const base = `${nodes[0].url}/api/workspaces/${workspaceId}/channels/${channelId}/messages`;
    const restOnce = async () => {
      const before = randInt(cfg.pageLimit + 1, cfg.messages + 1);
      const res = await fetch(`${base}?before=${before}&limit=${cfg.pageLimit}`, { headers: { authorization: `Bearer ${user.token}` }, signal: AbortSignal.timeout(30_000) });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      const body = await res.json();
      if (body.messages.length !== cfg.pageLimit || body.messages[cfg.pageLimit - 1].seq !== before - 1) throw new Error('wrong page');
    };
    for (let i = 0; i < Math.max(cfg.concurrency, 8); i++) sockets.push(await connectReadySocket(nodes[0].url, seed.users[i % 2].token));
    let rr = 0;
    const syncOnce = (socket) => async () => {
      const s = socket ?? sockets[rr++ % sockets.length];
      const afterSeq = randInt(0, cfg.messages - cfg.syncLimit);
      const ack = await s.timeout(30_000).emitWithAck('sync', { channels: [{ channelId, afterSeq }], limit: cfg.syncLimit });
      if (!ack || !ack.ok) throw new Error(`sync refused ${JSON.stringify(ack && ack.error)}`);
      const ch = ack.data.channels[0];
      if (ch.events.length !== cfg.syncLimit || ch.events[0].seq !== afterSeq + 1 || ch.headSeq !== cfg.messages) throw new Error('wrong sync page');
    };

    log('  warm-up: 100 of each (not counted)');
    await measure(100, 4, restOnce);
    await measure(100, 4, syncOnce());
    log(`  serial: ${cfg.serialRequests} of each, one at a time`);
    out.restSerial = await measure(cfg.serialRequests, 1, restOnce);
    out.syncSerial = await measure(cfg.serialRequests, 1, syncOnce(sockets[0]));
    log(`    REST p50 ${out.restSerial.p50Ms} p99 ${out.restSerial.p99Ms} ms; sync p50 ${out.syncSerial.p50Ms} p99 ${out.syncSerial.p99Ms} ms`);
    log(`  concurrent: ${cfg.requests} of each, ${cfg.concurrency} in flight`);
    out.rest = await measure(cfg.requests, cfg.concurrency, restOnce);
    log(`    REST page: p50 ${out.rest.p50Ms} p99 ${out.rest.p99Ms} max ${out.rest.maxMs} ms, ${out.rest.perSec}/s ${JSON.stringify(out.rest.errors)}`);
    out.sync = await measure(cfg.requests, cfg.concurrency, syncOnce());
    log(`    sync 500:  p50 ${out.sync.p50Ms} p99 ${out.sync.p99Ms} max ${out.sync.maxMs} ms, ${out.sync.perSec}/s ${JSON.stringify(out.sync.errors)}`);
    out.seed = { seconds: seedSec, messagesSize: check[0].msize, eventsSize: check[0].esize };
  } finally {
    for (const s of sockets) s.close();
    await db.end();
    await stopAll(nodes);
    await redis.stop();
  }

  const ok = (r) => r.p99Ms !== null && r.p99Ms <= cfg.p99LimitMs && Object.keys(r.errors).length === 0;
  const row = (name, r) => [name, `${r.requests} × ${r.concurrency} in flight`, r.p50Ms, r.p90Ms, r.p99Ms, r.maxMs, r.perSec, Object.keys(r.errors).length ? JSON.stringify(r.errors) : '0', ok(r) ? 'met' : 'NOT met'];
  const head = ['request (1M-message channel)', 'requests', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'req/s', 'errors', `p99 <= ${cfg.p99LimitMs} ms`];
  const rows = [
    row(`REST GET messages?before=<random>&limit=${cfg.pageLimit}`, out.rest),
    row(`socket sync, ${cfg.syncLimit} events from a random afterSeq`, out.sync),
    row('REST page, serial', out.restSerial),
    row('sync 500, serial', out.syncSerial),
  ];
  return {
    scenario: 'history',
    metric: `client-side latency of a history page and of a ${cfg.syncLimit}-event sync at random positions of a ${cfg.messages.toLocaleString('en-US')}-message channel`,
    config: cfg,
    summary: { rest: out.rest, sync: out.sync, restSerial: out.restSerial, syncSerial: out.syncSerial, seed: out.seed, meetsTarget: ok(out.rest) && ok(out.sync) },
    results: {},
    doc: {
      what: [
        `What: one channel holding ${cfg.messages.toLocaleString('en-US')} messages and their ${cfg.messages.toLocaleString('en-US')} \`message.created\` events (seqs 1..${cfg.messages.toLocaleString('en-US')}, head_seq set), inserted with SQL (\`INSERT ... SELECT generate_series\`, event data built with \`jsonb_build_object\` in the API's shape; \`bench/lib/seed.js\`) in ${out.seed.seconds} s; tables after seeding: messages ${out.seed.messagesSize}, channel_events ${out.seed.eventsSize} (indexes included).`,
        `Requests come from the harness process itself (fetch, and ${Math.max(cfg.concurrency, 8)} bare socket.io-client sockets for \`sync\`), each answer is checked (50 messages ending at before-1; 500 events starting at afterSeq+1). 100 of each warm up first. Latency includes the client's JSON parsing (a 500-event sync answer is ~0.4 MB).`,
        'One API process, default settings (SYNC_PAGE_LIMIT 500). No baseline: a bare Socket.IO server has no stored history to compare with.',
      ],
      target: `p99 <= ${cfg.p99LimitMs} ms for both.`,
      head,
      rows,
      extraMd: '',
      summaryLines: [`history: REST page p99 ${out.rest.p99Ms} ms, sync(500) p99 ${out.sync.p99Ms} ms at ${cfg.concurrency} in flight; target p99 <= ${cfg.p99LimitMs} ms.`],
    },
  };
}

module.exports = { run, DEFAULTS };
