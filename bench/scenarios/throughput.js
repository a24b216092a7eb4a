'use strict';
/**
 * throughput: `channels` channels × `membersPerChannel` members, every member a sender in its own
 * channel only, persisted + acked `message:send`s open-loop. Rate search for the highest acked
 * sends/s with p99 send -> ack <= 50 ms (and no failed send, no lost delivery), Pigeon vs the bare
 * Socket.IO baseline (which acks without storage), same load generator, same run.
 *
 * The API runs with the contract's default per-user limit (SEND_RATE_BURST=20,
 * SEND_RATE_PER_SECOND=10), so the offered rate is spread over enough users that each stays at or
 * under `perUserRate` (9/s): maxRate = users × perUserRate. Users/channels are seeded by SQL with
 * tokens minted from the API's JWT_SECRET (bench/lib/seed.js). At the end of every step GET /metrics
 * is scraped for pigeon_message_commit_batch_size (group commit): the step's mean batch = Δsum/Δcount.
 */
const path = require('node:path');
const { randomUUID } = require('node:crypto');
const { ROOT, startServer, startPrivateRedis } = require('../lib/procs');
const { LoadPool } = require('../lib/load');
const { rateSearch, measureStep } = require('../lib/search');
const { freshDatabase, startApiNodes, stopAll, BENCH_REDIS_URL, BENCH_METRICS_TOKEN } = require('../lib/pigeon');
const { connectDb, seedWorkspaces, parseHistogram, cpuWindow } = require('../lib/seed');
const { profiledStep } = require('../lib/profile-step');
const { renderTable } = require('../lib/report');

const DEFAULTS = {
  channels: 200,
  membersPerChannel: 5,
  perUserRate: 9, // sends/s per user, under SEND_RATE_PER_SECOND=10
  loadProcs: 3,
  client: 'raw',
  stepSec: 5,
  graceSec: 3,
  startRate: 500,
  factor: 1.5,
  bisectSteps: 2,
  budgetSec: 330, // both rate searches together
  bodyBytes: 64,
  p99LimitMs: 50,
  targets: 'baseline,pigeon',
  cpuProf: false,
  sendRateBurst: 20,
  sendRatePerSecond: 10,
};

const BATCH = 'pigeon_message_commit_batch_size';

async function scrape(url) {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` }, signal: AbortSignal.timeout(10_000) });
  return parseHistogram(await res.text(), BATCH);
}

async function runTarget(name, { url, specs, cfg, budgetMs, log, metricsUrl, child, serverChild, redisPid, db }) {
  const pool = new LoadPool(cfg.loadProcs);
  // CPU (cores) per process group during each measured step, read from /proc.
  let lastCpu = null;
  const groups = async () => {
    const g = {
      [name === 'pigeon' ? 'API process' : 'bare server']: [(serverChild ?? child).pid],
      [`load processes (${cfg.loadProcs})`]: pool.workers.map((w) => w.child.pid),
    };
    if (redisPid) g['redis-server (private)'] = [redisPid];
    if (db) {
      const { rows } = await db.query("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
      g['Postgres backends of pigeon_bench'] = rows.map((r) => r.pid);
    }
    return g;
  };
  const onBusy = async (durationMs) => {
    lastCpu = await cpuWindow(groups, durationMs);
  };
  try {
    log(`  ${name}: connecting ${specs.length} ${cfg.client} clients from ${cfg.loadProcs} load processes`);
    const connect = await pool.connect({ urls: [url], channelId: null, specs, kind: cfg.client, concurrency: 25 });
    log(`  ${name}: ${connect.connected} connected, ${connect.failed} failed in ${(connect.ms / 1000).toFixed(1)} s ${connect.failed ? JSON.stringify(connect.failures) : ''}`);
    if (connect.connected < specs.length) throw new Error(`${name}: only ${connect.connected}/${specs.length} clients connected`);
    await new Promise((r) => setTimeout(r, 2000));
    const users = specs.length;
    const opts = {
      startRate: cfg.startRate,
      factor: cfg.factor,
      bisectSteps: cfg.bisectSteps,
      stepMs: cfg.stepSec * 1000,
      graceMs: cfg.graceSec * 1000,
      budgetMs,
      senderCount: users,
      receivers: cfg.membersPerChannel, // each message reaches its channel's members, the sender's echo included
      bodyBytes: cfg.bodyBytes,
      p99LimitMs: cfg.p99LimitMs,
      criterion: 'ack',
      maxRate: users * cfg.perUserRate,
    };
    const warmup = await measureStep(pool, { ...opts, step: 1, rate: Math.min(200, cfg.startRate), durationMs: 3000, graceMs: 2000 });
    if (warmup.acked === 0) throw new Error(`${name}: no send acked during the warm-up (${JSON.stringify(warmup.sendErrors)})`);
    log(`  ${name}: warm-up ${warmup.ackedPerSec} acked/s, ack p99 ${warmup.ack.p99Ms} ms (not counted)`);
    let last = metricsUrl ? await scrape(metricsUrl) : null;
    const afterStep = async (r) => {
      r.cpu = lastCpu;
      if (lastCpu) log(`           CPU cores: ${Object.entries(lastCpu).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      lastCpu = null;
      if (metricsUrl) {
        const now = await scrape(metricsUrl);
        const dc = now.count - last.count;
        r.commitBatches = dc;
        r.commitBatchMean = dc > 0 ? Math.round(((now.sum - last.sum) / dc) * 100) / 100 : null;
        log(`           group commit: ${dc} batches, mean ${r.commitBatchMean} sends/batch`);
        last = now;
      }
    };
    log(`  ${name}: rate search on acked sends/s (steps of ${cfg.stepSec} s from ${cfg.startRate}/s ×${cfg.factor}, cap ${opts.maxRate}/s = ${users} users × ${cfg.perUserRate}/s; ack p99 <= ${cfg.p99LimitMs} ms)`);
    const search = await rateSearch(pool, { ...opts, firstStep: 2, afterStep, onBusy }, log);
    let profiled = null;
    if (cfg.cpuProf && child) {
      const rate = search.best ? search.best.rateMsgsPerSec : cfg.startRate;
      profiled = await profiledStep(pool, child, { ...opts, step: search.nextStep, rate, durationMs: cfg.stepSec * 1000, graceMs: cfg.graceSec * 1000 }, { scenario: 'throughput', log });
      await afterStep(profiled.step);
    }
    const final = metricsUrl ? await scrape(metricsUrl) : null;
    return { connect, ...search, profiled, commitBatchHistogram: final };
  } finally {
    await pool.close();
  }
}

function compact(t) {
  if (!t) return null;
  const b = t.best;
  return {
    ackedPerSec: b ? b.ackedPerSec : 0,
    offeredPerSec: b ? b.rateMsgsPerSec : 0,
    ackP50Ms: b ? b.ack.p50Ms : null,
    ackP99Ms: b ? b.ack.p99Ms : null,
    deliveriesPerSec: b ? b.deliveriesPerSec : 0,
    deliveryP99Ms: b ? b.latency.p99Ms : null,
    commitBatchMean: b ? (b.commitBatchMean ?? null) : null,
    firstBadRate: t.firstBadRate,
    reachedMaxRate: t.reachedMaxRate,
    truncated: t.truncated,
  };
}

async function run(cfgIn, { log }) {
  const cfg = { ...DEFAULTS, ...cfgIn };
  const targets = String(cfg.targets).split(',').map((t) => t.trim());
  const budgetMs = (cfg.budgetSec * 1000) / targets.length;
  const users = cfg.channels * cfg.membersPerChannel;
  const results = {};
  const redis = await startPrivateRedis(BENCH_REDIS_URL);
  log(`redis for the bench: ${redis.url}${redis.private ? ' (private, memory only)' : ' (shared!)'}`);
  try {
    for (const target of targets) {
      const t0 = Date.now();
      if (target === 'baseline') {
        log('\nbaseline: bare Socket.IO server (acks without storage)');
        const server = await startServer('baseline', path.join(ROOT, 'bench', 'baseline', 'server.js'), {});
        try {
          const channelIds = Array.from({ length: cfg.channels }, () => randomUUID());
          const specs = Array.from({ length: users }, (_, i) => {
            const channelId = channelIds[i % cfg.channels];
            return { token: 'baseline', auth: { token: 'baseline', channels: [channelId] }, sender: true, senderIndex: i, channelId };
          });
          results.baseline = await runTarget('baseline', { url: server.url, specs, cfg, budgetMs, log, serverChild: server.child });
        } finally {
          await server.stop();
        }
      } else if (target === 'pigeon') {
        log(`\npigeon: 1 API process, fresh pigeon_bench, per-user send limit burst ${cfg.sendRateBurst} / ${cfg.sendRatePerSecond} per s`);
        await freshDatabase();
        const execArgv = cfg.cpuProf ? ['-r', path.join(ROOT, 'bench', 'lib', 'cpu-profile-preload.js')] : [];
        const nodes = await startApiNodes(1, {
          redisUrl: redis.url,
          execArgv,
          extraEnv: { SEND_RATE_BURST: String(cfg.sendRateBurst), SEND_RATE_PER_SECOND: String(cfg.sendRatePerSecond) },
        });
        const db = await connectDb();
        try {
          const seed = await seedWorkspaces(db, { workspaces: 1, channelsPerWorkspace: cfg.channels, usersPerWorkspace: users, log });
          const specs = seed.users.map((u, i) => ({ token: u.token, sender: true, senderIndex: i, channelId: u.channelId }));
          results.pigeon = await runTarget('pigeon', { url: nodes[0].url, specs, cfg, budgetMs, log, metricsUrl: nodes[0].url, child: nodes[0].child, redisPid: redis.child && redis.child.pid, db });
        } catch (error) {
          log(`  api-0 output tail:\n${nodes[0].output().slice(-2000)}`);
          throw error;
        } finally {
          await db.end();
          await stopAll(nodes);
        }
      } else throw new Error(`unknown target ${target}`);
      log(`  ${target}: done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
  } finally {
    await redis.stop();
  }

  const pigeon = compact(results.pigeon);
  const baseline = compact(results.baseline);
  const ratio = pigeon && baseline && baseline.ackedPerSec ? Math.round((pigeon.ackedPerSec / baseline.ackedPerSec) * 1000) / 1000 : null;
  const fmt = (n) => (n === null || n === undefined ? 'n/a' : Number(n).toLocaleString('en-US'));
  const capped = (t) => (t && t.reachedMaxRate ? ' (cap reached)' : '');
  const head = ['scenario', 'Pigeon acked sends/s', 'baseline acked sends/s', 'ratio', 'Pigeon ack p50 / p99', 'baseline ack p50 / p99', 'Pigeon mean commit batch', 'target >= 5,000/s'];
  const rows = [
    [
      `throughput (${cfg.channels} ch × ${cfg.membersPerChannel}, ${users} senders ≤ ${cfg.perUserRate}/s each)`,
      pigeon ? `${fmt(pigeon.ackedPerSec)}${capped(results.pigeon)}` : 'n/a',
      baseline ? `${fmt(baseline.ackedPerSec)}${capped(results.baseline)}` : 'n/a',
      ratio === null ? 'n/a' : ratio.toFixed(2),
      pigeon ? `${pigeon.ackP50Ms} / ${pigeon.ackP99Ms} ms` : 'n/a',
      baseline ? `${baseline.ackP50Ms} / ${baseline.ackP99Ms} ms` : 'n/a',
      pigeon ? String(pigeon.commitBatchMean ?? 'n/a') : 'n/a',
      pigeon ? (pigeon.ackedPerSec >= 5000 ? 'met' : 'NOT met') : 'n/a',
    ],
  ];
  const stepRows = (t) =>
    renderTable(
      ['phase', 'offered/s', 'acked/s', 'ack p50 ms', 'ack p99 ms', 'deliveries/s', 'delivery p99 ms', 'lost', 'failed', 'commit batches', 'mean batch', 'verdict'],
      t.steps.map((s) => [s.phase, s.rateMsgsPerSec, fmt(s.ackedPerSec), s.ack.p50Ms, s.ack.p99Ms, fmt(s.deliveriesPerSec), s.latency.p99Ms, s.lost, s.failedSends, s.commitBatches ?? '', s.commitBatchMean ?? '', s.good ? 'ok' : s.reasons.join('; ')]),
    ).md;
  const extra = [];
  if (results.pigeon) {
    extra.push('Pigeon steps:', '', stepRows(results.pigeon), '');
    const h = results.pigeon.commitBatchHistogram;
    if (h) {
      extra.push(
        `\`${BATCH}\` at the end of the run (whole run, warm-up and profiled step included): count ${fmt(h.count)}, sum ${fmt(h.sum)}, **mean ${h.mean} sends per commit**; cumulative buckets: ${h.buckets.map((b) => `le ${b.le}: ${fmt(b.count)}`).join(', ')}.`,
        '',
      );
    }
    const p = results.pigeon.profiled;
    if (p) {
      extra.push(
        `CPU profile of the API during one extra ${cfg.stepSec} s step at ${p.step.rateMsgsPerSec} sends/s (acked ${fmt(p.step.ackedPerSec)}/s, ack p99 ${p.step.ack.p99Ms} ms; \`${p.file}\`), top self time:`,
        '',
        renderTable(['% of samples', 'self ms', 'function'], p.profile.topFunctions.slice(0, 15).map((f) => [f.pct, f.selfMs, `\`${f.fn}\``])).md,
        '',
        'By area:',
        '',
        renderTable(['% of samples', 'area'], p.profile.byArea.slice(0, 10).map((a) => [a.pct, `\`${a.area}\``])).md,
        '',
      );
    }
  }
  for (const [label, t] of [['Pigeon', results.pigeon], ['Baseline', results.baseline]]) {
    const best = t && t.best;
    if (best && best.cpu) {
      extra.push(`CPU during ${label}'s best step (${best.rateMsgsPerSec}/s offered), in cores (CPU-seconds per second, /proc; the machine has 2):`, '', renderTable(['processes', 'cores'], Object.entries(best.cpu).map(([k, v]) => [k, v])).md, '');
    }
  }
  if (results.baseline) extra.push('Baseline steps:', '', stepRows(results.baseline), '');
  const slimSteps = (t) => t && t.steps.map((s) => ({ phase: s.phase, offered: s.rateMsgsPerSec, acked: s.ackedPerSec, ack: s.ack, deliveryP99Ms: s.latency.p99Ms, lost: s.lost, failed: s.failedSends, errors: s.sendErrors, commitBatchMean: s.commitBatchMean, cpu: s.cpu }));
  return {
    scenario: 'throughput',
    metric: `acked message:send/s with p99 send -> ack <= ${cfg.p99LimitMs} ms, no failed send and no lost delivery (each message reaches its ${cfg.membersPerChannel} channel members)`,
    config: cfg,
    summary: { pigeon, baseline, ratio, target: '>= 5000 acked/s', meetsTarget: pigeon ? pigeon.ackedPerSec >= 5000 : null },
    results,
    doc: {
      what: [
        `What: ${cfg.channels} channels × ${cfg.membersPerChannel} members = ${users} users, each a member of one channel and sending only there, open-loop, evenly spaced, ${cfg.bodyBytes}-byte bodies; every send is persisted by Pigeon (Postgres, group commit) and acked; ${cfg.client === 'raw' ? 'bare socket.io-client' : 'SDK'} clients over websocket from ${cfg.loadProcs} load processes.`,
        `Rate limit: the API runs with the contract's default per-user limit (SEND_RATE_BURST=${cfg.sendRateBurst}, SEND_RATE_PER_SECOND=${cfg.sendRatePerSecond}); the offered rate is spread over all ${users} users, so at the cap (${users * cfg.perUserRate}/s) each sends ${cfg.perUserRate}/s, under the limit. Any RATE_LIMITED answer would fail the step.`,
        'Setup: users, workspace, channels and memberships inserted by SQL (one shared argon2 hash), access tokens signed by the harness with the API\'s JWT_SECRET (HS256, {sub, typ:"access"}), see `bench/lib/seed.js`.',
        'Baseline: `bench/baseline/server.js` (bare Socket.IO 4: acks and broadcasts to the room, no auth, storage or Redis), same clients and load generator.',
        `Rate search from ${cfg.startRate}/s ×${cfg.factor} per ${cfg.stepSec} s step up to the cap, then ${cfg.bisectSteps} bisect steps; a step fails on ack p99 > ${cfg.p99LimitMs} ms, any failed send, or any delivery missing ${cfg.graceSec} s after the last ack.`,
      ],
      target: 'Pigeon >= 5,000 acked sends/s at p99 ack <= 50 ms.',
      head,
      rows,
      extraMd: extra.join('\n'),
      summaryLines: [`acked sends/s at ack p99 <= ${cfg.p99LimitMs} ms; target Pigeon >= 5,000/s. Mean group-commit batch at the best step: ${pigeon ? pigeon.commitBatchMean : 'n/a'}.`],
      raw: {
        pigeonSteps: slimSteps(results.pigeon),
        baselineSteps: slimSteps(results.baseline),
        commitBatchHistogram: results.pigeon && results.pigeon.commitBatchHistogram,
        profileTop: results.pigeon && results.pigeon.profiled && results.pigeon.profiled.profile.topFunctions.slice(0, 15),
      },
    },
  };
}

module.exports = { run, DEFAULTS };
