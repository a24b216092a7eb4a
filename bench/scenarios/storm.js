'use strict';
/**
 * storm: `clients` (5,000) connected SDK clients (PigeonClient, client/dist) spread over
 * `loadProcs` load processes are all dropped at once: the harness kill -9s the API process (nothing
 * is added to the server), appends `perChannel` messages to every channel directly with SQL while
 * the API is down (what another node would have accepted meanwhile), and starts a new API process on
 * the same port. The clients reconnect with the SDK's default backoff (250 ms doubling to 10 s, 50 %
 * jitter), get `ready`, `sync` and deliver. Measured: time from the kill (and from the new process
 * listening) until every client is ready again with lastSeq == head of its channel, each client's
 * delivered seqs checked contiguous and complete; Postgres transactions/s of pigeon_bench sampled
 * every second (pg_stat_database xact_commit + xact_rollback; pg_stat_statements is not loaded here).
 *
 * Baseline: the bare Socket.IO server killed and restarted the same way: the reconnect floor (the
 * same SDK backoff, no auth, no storage, nothing to sync).
 */
const path = require('node:path');
const { randomUUID } = require('node:crypto');
const { profileCommand } = require('../lib/profile-step');
const { ROOT, startServer, startPrivateRedis, stopChild } = require('../lib/procs');
const { LoadPool } = require('../lib/load');
const { freshDatabase, startApiNodes, stopAll, BENCH_REDIS_URL } = require('../lib/pigeon');
const { connectDb, seedWorkspaces, appendMessages, sampleTransactions } = require('../lib/seed');
const { renderTable } = require('../lib/report');
const { summarize } = require('../lib/cpuprofile');

const DEFAULTS = {
  clients: 5000,
  workspaces: 5,
  channelsPerWorkspace: 20,
  perChannel: 20, // messages appended to every channel while the API is down
  loadProcs: 4,
  targets: 'baseline,pigeon',
  timeoutSec: 90,
  limitSec: 10,
  cpuProf: false, // profile the new API process from listening until every client is resynced
};

const sec = (ms) => (ms === null || ms === undefined ? null : Math.round(ms / 100) / 10);

function waitExit(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
}

/** Connect everyone, mark, kill -9, (SQL while down), restart on the same port, watch. */
async function storm(name, { specs, cfg, log, url, port, child, whileDown, restart, db }) {
  const pool = new LoadPool(cfg.loadProcs);
  try {
    log(`  ${name}: connecting ${specs.length} SDK clients from ${cfg.loadProcs} load processes`);
    const connect = await pool.connect({ urls: [url], channelId: null, specs, kind: 'sdk', concurrency: 25 });
    log(`  ${name}: ${connect.connected} connected, ${connect.failed} failed in ${(connect.ms / 1000).toFixed(1)} s ${connect.failed ? JSON.stringify(connect.failures) : ''}`);
    if (connect.connected < specs.length) throw new Error(`${name}: only ${connect.connected}/${specs.length} connected`);
    await new Promise((r) => setTimeout(r, 3000));
    await pool.mark();
    const sampler = db ? sampleTransactions(db) : null;
    await new Promise((r) => setTimeout(r, 2500)); // a couple of quiet samples first
    const t0 = Date.now();
    log(`  ${name}: kill -9 pid ${child.pid}`);
    child.kill('SIGKILL');
    await waitExit(child);
    const tDead = Date.now() - t0;
    const down = whileDown ? await whileDown() : { heads: {}, before: {} };
    const tSql = Date.now() - t0;
    const watching = pool.watch({ heads: down.heads, before: down.before, t0, timeoutMs: cfg.timeoutSec * 1000 });
    const server = await restart(port);
    const tListening = Date.now() - t0;
    const profileFile = cfg.cpuProf && name === 'pigeon' ? path.join(ROOT, 'bench', 'results', `storm-api-${Date.now()}.cpuprofile`) : null;
    if (profileFile) await profileCommand(server.child, 'start');
    log(`  ${name}: dead after ${tDead} ms, SQL while down done at ${tSql} ms, new process (pid ${server.child.pid}) listening on the same port at ${tListening} ms`);
    const w = await watching;
    let profiled = null;
    if (profileFile) {
      await profileCommand(server.child, 'stop', profileFile);
      profiled = { file: path.relative(ROOT, profileFile), ...summarize(profileFile, 20) };
      log(`  ${name}: profile of the new API process from listening to all resynced, top self time:`);
      for (const f of profiled.topFunctions.slice(0, 12)) log(`    ${String(f.pct).padStart(5)} %  ${f.fn}`);
      for (const a of profiled.byArea.slice(0, 8)) log(`    ${String(a.pct).padStart(5)} %  [${a.area}]`);
    }
    await new Promise((r) => setTimeout(r, 2500)); // pg_stat_database is flushed by backends about once a second
    const pg = sampler ? await sampler.stop() : null;
    log(
      `  ${name}: ${w.resynced}/${w.total} resynced; all ready ${w.allReadyMs} ms, all resynced ${w.lastResyncedMs} ms after the kill ` +
        `(${w.lastResyncedMs === null ? 'n/a' : w.lastResyncedMs - tListening} ms after listening); per client p50 ${w.resyncTimes.p50Ms} p99 ${w.resyncTimes.p99Ms} ms; ` +
        `delivered ${w.delivered}, seq violations ${w.seqViolations}, wrong counts ${w.wrongDeliveryCount}` +
        (pg ? `; Postgres peak ${pg.peakPerSec} transactions/s` : ''),
    );
    if (Object.keys(w.errors).length) log(`  ${name}: client errors ${JSON.stringify(w.errors)}`);
    return { server, result: { connect: { connected: connect.connected, ms: connect.ms }, tDeadMs: tDead, tSqlMs: tSql, tListeningMs: tListening, ...w, pg, profiled } };
  } finally {
    await pool.close();
  }
}

async function run(cfgIn, { log }) {
  const cfg = { ...DEFAULTS, ...cfgIn };
  const targets = String(cfg.targets).split(',').map((t) => t.trim());
  const results = {};
  const redis = await startPrivateRedis(BENCH_REDIS_URL);
  try {
    for (const target of targets) {
      if (target === 'baseline') {
        log('\nbaseline: bare Socket.IO server, kill -9 and restart on the same port');
        const first = await startServer('baseline', path.join(ROOT, 'bench', 'baseline', 'server.js'), {});
        const channels = Array.from({ length: cfg.workspaces * cfg.channelsPerWorkspace }, () => randomUUID());
        const specs = Array.from({ length: cfg.clients }, (_, i) => {
          const channelId = channels[i % channels.length];
          return { token: 'baseline', auth: { token: 'baseline', channels: [channelId] }, channelId };
        });
        let second = null;
        try {
          const r = await storm('baseline', {
            specs,
            cfg,
            log,
            url: first.url,
            port: first.port,
            child: first.child,
            restart: async (port) => (second = await startServer('baseline-2', path.join(ROOT, 'bench', 'baseline', 'server.js'), { PORT: String(port) })),
          });
          results.baseline = r.result;
        } finally {
          await first.stop();
          if (second) await second.stop();
        }
      } else if (target === 'pigeon') {
        log('\npigeon: 1 API process, kill -9, messages appended by SQL while it is down, new process on the same port');
        await freshDatabase();
        let nodes = await startApiNodes(1, { redisUrl: redis.url });
        const port = nodes[0].port;
        const db = await connectDb();
        let second = null;
        try {
          const perWorkspace = Math.ceil(cfg.clients / cfg.workspaces);
          const seed = await seedWorkspaces(db, { workspaces: cfg.workspaces, channelsPerWorkspace: cfg.channelsPerWorkspace, usersPerWorkspace: perWorkspace, log });
          const users = seed.users.slice(0, cfg.clients);
          const channelIds = seed.workspaces.flatMap((w) => w.channels);
          const authorOf = new Map(users.map((u) => [u.channelId, u.id]));
          const specs = users.map((u) => ({ token: u.token, channelId: u.channelId }));
          const r = await storm('pigeon', {
            specs,
            cfg,
            log,
            db,
            url: nodes[0].url,
            port,
            child: nodes[0].child,
            whileDown: () => appendMessages(db, channelIds, { perChannel: cfg.perChannel, authorOf: (c) => authorOf.get(c) }),
            restart: async (p) => {
              const execArgv = cfg.cpuProf ? ['-r', path.join(ROOT, 'bench', 'lib', 'cpu-profile-preload.js')] : [];
              const started = await startApiNodes(1, { redisUrl: redis.url, execArgv, extraEnv: { PORT: String(p) } });
              second = started[0];
              return second;
            },
          });
          results.pigeon = r.result;
        } catch (error) {
          if (second) log(`  new api output tail:\n${second.output().slice(-2000)}`);
          throw error;
        } finally {
          await db.end();
          await stopAll(nodes);
          if (second) await stopChild(second.child, 'SIGTERM', 10_000);
          nodes = [];
        }
      } else throw new Error(`unknown target ${target}`);
    }
  } finally {
    await redis.stop();
  }

  const p = results.pigeon;
  const b = results.baseline;
  const met = (r) => r && r.resynced === r.total && r.seqViolations === 0 && r.wrongDeliveryCount === 0 && r.lastResyncedMs !== null && r.lastResyncedMs - r.tListeningMs <= cfg.limitSec * 1000;
  const row = (name, r) =>
    r
      ? [
          name,
          `${r.resynced} / ${r.total}`,
          sec(r.tListeningMs),
          sec(r.allReadyMs),
          sec(r.lastResyncedMs),
          r.lastResyncedMs === null ? 'n/a' : sec(r.lastResyncedMs - r.tListeningMs),
          `${sec(r.resyncTimes.p50Ms)} / ${sec(r.resyncTimes.p99Ms)}`,
          `${r.delivered} / ${r.seqViolations} / ${r.wrongDeliveryCount}`,
          r.pg ? String(r.pg.peakPerSec) : 'n/a',
          met(r) ? 'met' : 'NOT met',
        ]
      : [name, 'not run', '', '', '', '', '', '', '', ''];
  const head = [
    'server',
    'resynced clients',
    'new process listening (s after kill)',
    'all ready (s after kill)',
    'all resynced (s after kill)',
    'all resynced (s after listening)',
    'per-client resync p50 / p99 (s after kill)',
    'events delivered / seq holes / wrong counts',
    'Postgres peak transactions/s',
    `<= ${cfg.limitSec} s after listening`,
  ];
  const rows = [row('Pigeon', p), row('bare Socket.IO (reconnect floor)', b)];
  const ratio = p && b && p.lastResyncedMs && b.lastResyncedMs ? Math.round((p.lastResyncedMs / b.lastResyncedMs) * 100) / 100 : null;
  const pgTable = p && p.pg ? renderTable(['t (s)', 'transactions/s'], p.pg.samples.map((s) => [s.tSec, s.perSec])).md : '';
  return {
    scenario: 'storm',
    metric: 'time from kill -9 of the API (and from its replacement listening) until every client is ready again with lastSeq == head of its channel, no hole and no repeat',
    config: cfg,
    summary: { pigeon: p && { ...p, pg: p.pg && { peakPerSec: p.pg.peakPerSec }, profiled: p.profiled && { file: p.profiled.file, topFunctions: p.profiled.topFunctions.slice(0, 10) } }, baseline: b, ratioAllResyncedVsBaseline: ratio, meetsTarget: met(p) },
    results,
    doc: {
      what: [
        `What: ${cfg.clients.toLocaleString('en-US')} SDK clients (PigeonClient from client/dist, default reconnect backoff 250 ms ×2 up to 10 s with 50 % jitter) in ${cfg.loadProcs} load processes, connected to one API process; users in ${cfg.workspaces} workspaces × ${cfg.channelsPerWorkspace} channels (${Math.round(cfg.clients / (cfg.workspaces * cfg.channelsPerWorkspace))} members per channel), seeded by SQL with harness-signed tokens.`,
        `The drop: the harness \`kill -9\`s the API process (nothing added to the server), appends ${cfg.perChannel} messages to each of the ${cfg.workspaces * cfg.channelsPerWorkspace} channels with SQL while it is down (${cfg.perChannel * cfg.workspaces * cfg.channelsPerWorkspace} events, as another node would have accepted meanwhile), then starts a new API process on the same port. Every client must reconnect, get \`ready\` with a head ${cfg.perChannel} ahead, \`sync\` and deliver exactly those ${cfg.perChannel} events in order.`,
        'Resynced = the client is ready and its lastSeq equals the head of its channel; each client\'s delivered seqs are checked contiguous (holes/repeats) and their count equal to head − position before the kill. Load processes poll every 50 ms.',
        'Postgres: transactions/s of pigeon_bench from `pg_stat_database` (xact_commit + xact_rollback; every single-statement query outside a transaction is one), sampled each second by the harness; pg_stat_statements is not loaded on this server. Backends flush these counters about once a second, so the per-second peak is smoothed.',
        'Baseline: the bare Socket.IO server killed and restarted the same way with the same SDK clients: the floor set by the SDK\'s backoff and the restart, with no auth, no storage and nothing to sync.',
      ],
      target: `all clients resynced within ${cfg.limitSec} s (judged from the new process listening; the time from the kill is shown too).`,
      head,
      rows,
      extraMd: [
        ratio === null ? '' : `Pigeon's all-resynced time (from the kill) is ${ratio}× the bare server's all-reconnected time.`,
        '',
        p && p.pg ? 'Postgres transactions/s of pigeon_bench around the storm (t = seconds from the first sample, the kill is ~2.5 s in):' : '',
        '',
        pgTable,
        '',
        p && p.profiled
          ? `CPU profile of the new API process from listening until every client was resynced (\`${p.profiled.file}\`; the profiler slows it somewhat), top self time:\n\n${renderTable(['% of samples', 'self ms', 'function'], p.profiled.topFunctions.slice(0, 15).map((f) => [f.pct, f.selfMs, `\`${f.fn}\``])).md}\n\nBy area:\n\n${renderTable(['% of samples', 'area'], p.profiled.byArea.slice(0, 10).map((a) => [a.pct, `\`${a.area}\``])).md}`
          : '',
      ].join('\n'),
      summaryLines: [
        `storm: Pigeon all resynced ${p ? sec(p.lastResyncedMs) : 'n/a'} s after the kill (${p && p.lastResyncedMs !== null ? sec(p.lastResyncedMs - p.tListeningMs) : 'n/a'} s after the new process listened); bare server ${b ? sec(b.lastResyncedMs) : 'n/a'} s; Postgres peak ${p && p.pg ? p.pg.peakPerSec : 'n/a'} transactions/s. Target <= ${cfg.limitSec} s.`,
      ],
    },
  };
}

module.exports = { run, DEFAULTS };
