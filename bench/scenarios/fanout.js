'use strict';
/**
 * fanout: one channel, `members` connected members (every one receives every message, the
 * senders' own echoes included), `senders` of them sending open-loop. Rate search for the highest
 * deliveries/s with p99 send-to-receive latency <= 100 ms and no loss, for Pigeon and for the bare
 * Socket.IO baseline, with the same load generator, in the same run.
 */
const path = require('node:path');
const { randomUUID } = require('node:crypto');
const { ROOT, startServer, startPrivateRedis } = require('../lib/procs');
const { LoadPool } = require('../lib/load');
const { rateSearch, measureStep } = require('../lib/search');
const { freshDatabase, startApiNodes, stopAll, setupWorkspace, BENCH_REDIS_URL } = require('../lib/pigeon');
const { summarize } = require('../lib/cpuprofile');
const { startRedisCluster } = require('../lib/redis-cluster');

const DEFAULTS = {
  members: 1000,
  senders: 10,
  loadProcs: 3,
  nodes: 1,
  client: 'sdk',
  stepSec: 5,
  graceSec: 3,
  startRate: 5,
  factor: 1.5,
  bisectSteps: 3,
  budgetSec: 300, // both rate searches together; setup (registrations, connects) comes on top
  bodyBytes: 64,
  p99LimitMs: 100,
  targets: 'baseline,pigeon',
  cpuProf: false,
  // `sharded`: Pigeon's fan-out through the sharded adapter on a private three-master Redis Cluster
  // (SOCKET_ADAPTER=sharded); the baseline stays the bare server. `npm run bench -- fanout-sharded`.
  adapter: 'classic',
};

function searchOptions(cfg, receivers, budgetMs) {
  return {
    startRate: cfg.startRate,
    factor: cfg.factor,
    bisectSteps: cfg.bisectSteps,
    stepMs: cfg.stepSec * 1000,
    graceMs: cfg.graceSec * 1000,
    budgetMs,
    senderCount: cfg.senders,
    receivers,
    bodyBytes: cfg.bodyBytes,
    p99LimitMs: cfg.p99LimitMs,
  };
}

/** Connects, warms up, searches; `extra(pool, search)` may run more steps before the pool closes. */
async function runTarget(name, { urls, channelId, specs, cfg, budgetMs, log, extra }) {
  const pool = new LoadPool(cfg.loadProcs);
  try {
    log(`  ${name}: connecting ${specs.length} ${cfg.client} clients from ${cfg.loadProcs} load processes to ${urls.join(', ')}`);
    const connect = await pool.connect({ urls, channelId, specs, kind: cfg.client, concurrency: 20 });
    log(`  ${name}: ${connect.connected} connected, ${connect.failed} failed in ${(connect.ms / 1000).toFixed(1)} s ${connect.failed ? JSON.stringify(connect.failures) : ''}`);
    if (connect.connected < specs.length) throw new Error(`${name}: only ${connect.connected}/${specs.length} clients connected`);
    await new Promise((r) => setTimeout(r, 2000)); // presence batches and connection setup settle
    const opts = searchOptions(cfg, connect.connected, budgetMs);
    const warmup = await measureStep(pool, { ...opts, step: 1, rate: cfg.startRate, durationMs: 2000, graceMs: 2000 });
    if (warmup.acked === 0) {
      throw new Error(`${name}: no message:send was acked during the warm-up (${JSON.stringify(warmup.sendErrors)}); the server cannot take sends, nothing to measure`);
    }
    log(`  ${name}: warm-up ${warmup.deliveriesPerSec} deliveries/s, p99 ${warmup.latency.p99Ms} ms (not counted)`);
    log(`  ${name}: rate search (steps of ${cfg.stepSec} s, ×${cfg.factor}, then ${cfg.bisectSteps} bisect steps; budget ${Math.round(budgetMs / 1000)} s)`);
    const search = await rateSearch(pool, { ...opts, firstStep: 2 }, log);
    const extraResult = extra ? await extra(pool, search, opts) : undefined;
    return { connect, warmup: { latency: warmup.latency, deliveriesPerSec: warmup.deliveriesPerSec }, ...search, extra: extraResult };
  } finally {
    await pool.close();
  }
}

function compact(target) {
  if (!target) return null;
  const b = target.best;
  return {
    deliveriesPerSec: b ? b.deliveriesPerSec : 0,
    msgsPerSec: b ? b.rateMsgsPerSec : 0,
    p50Ms: b ? b.latency.p50Ms : null,
    p99Ms: b ? b.latency.p99Ms : null,
    firstBadMsgsPerSec: target.firstBadRate,
    truncated: target.truncated,
  };
}

async function run(cfgIn, { log, argvText }) {
  const cfg = { ...DEFAULTS, ...cfgIn };
  const targets = String(cfg.targets).split(',').map((t) => t.trim());
  const budgetMs = (cfg.budgetSec * 1000) / targets.length;
  const results = {};
  const redis = await startPrivateRedis(BENCH_REDIS_URL);
  log(`redis for the bench: ${redis.url}${redis.private ? ' (private, memory only)' : ' (shared!)'}`);

  try {
    for (const target of targets) {
      const t0 = Date.now();
      if (target === 'baseline') {
        log('\nbaseline: bare Socket.IO server (bench/baseline/server.js)');
        const server = await startServer('baseline', path.join(ROOT, 'bench', 'baseline', 'server.js'), {});
        try {
          const channelId = randomUUID();
          const specs = Array.from({ length: cfg.members }, (_, i) => ({
            token: 'baseline',
            auth: { token: 'baseline', channels: [channelId] },
            sender: i < cfg.senders,
            senderIndex: i,
          }));
          results.baseline = await runTarget('baseline', { urls: [server.url], channelId, specs, cfg, budgetMs, log });
        } finally {
          await server.stop();
        }
      } else if (target === 'pigeon') {
        log(`\npigeon: ${cfg.nodes} API process(es) (dist/main.js), fresh database pigeon_bench`);
        await freshDatabase();
        const execArgv = [];
        if (cfg.cpuProf) execArgv.push('-r', path.join(ROOT, 'bench', 'lib', 'cpu-profile-preload.js'));
        let cluster;
        const extraEnv = {};
        if (cfg.adapter === 'sharded') {
          cluster = await startRedisCluster(3);
          log(`  fan-out through a private Redis Cluster (SOCKET_ADAPTER=sharded): ${cluster.seeds}`);
          Object.assign(extraEnv, { SOCKET_ADAPTER: 'sharded', REDIS_FANOUT_CLUSTER_NODES: cluster.seeds });
        }
        const nodes = await startApiNodes(cfg.nodes, { redisUrl: redis.url, execArgv, extraEnv }).catch(async (error) => {
          await cluster?.stop();
          throw error;
        });
        try {
          log(`  registering ${cfg.members} users (argon2, 8 at a time) and joining them to one workspace`);
          const setup = await setupWorkspace(nodes[0].url, cfg.members, { concurrency: 8, log });
          const specs = setup.users.map((u, i) => ({ token: u.token, sender: i < cfg.senders, senderIndex: i }));
          const extra = cfg.cpuProf
            ? async (pool, search, opts) => {
                const rate = search.best ? search.best.rateMsgsPerSec : cfg.startRate;
                const file = path.join(ROOT, 'bench', 'results', `fanout-api0-${Date.now()}.cpuprofile`);
                log(`  pigeon: profiling api-0 during one ${cfg.stepSec} s step at ${rate} msg/s`);
                const child = nodes[0].child;
                const waitFor = (type) =>
                  new Promise((resolve, reject) => {
                    const timer = setTimeout(() => reject(new Error(`no ${type} from api-0`)), 30_000);
                    const on = (m) => {
                      if (m && (m.type === type || m.type === 'bench:profile-error')) {
                        clearTimeout(timer);
                        child.off('message', on);
                        if (m.type === type) resolve(m);
                        else reject(new Error(m.error));
                      }
                    };
                    child.on('message', on);
                  });
                const onBusy = async (durationMs) => {
                  child.send({ type: 'bench:profile-start' });
                  await waitFor('bench:profile-started');
                  await new Promise((r) => setTimeout(r, durationMs + 300));
                  child.send({ type: 'bench:profile-stop', file });
                  await waitFor('bench:profile-written');
                };
                const step = await measureStep(pool, { ...opts, step: search.nextStep, rate, durationMs: cfg.stepSec * 1000, graceMs: cfg.graceSec * 1000, onBusy });
                const profile = summarize(file, 20);
                log(`  pigeon: profiled step ${step.deliveriesPerSec} deliveries/s p99 ${step.latency.p99Ms} ms; top self time:`);
                for (const f of profile.topFunctions.slice(0, 10)) log(`    ${String(f.pct).padStart(5)} %  ${f.fn}`);
                log('  by area:');
                for (const a of profile.byArea.slice(0, 10)) log(`    ${String(a.pct).padStart(5)} %  ${a.area}`);
                return { profileStep: { rate, deliveriesPerSec: step.deliveriesPerSec, latency: step.latency, lost: step.lost }, profile };
              }
            : undefined;
          results.pigeon = await runTarget('pigeon', { urls: nodes.map((n) => n.url), channelId: setup.channelId, specs, cfg, budgetMs, log, extra });
        } catch (error) {
          for (const n of nodes) {
            const state = n.child.exitCode ?? n.child.signalCode ?? 'running';
            log(`  ${n.name} (pid ${n.child.pid}, ${state}) output tail:\n${n.output().slice(-2000)}`);
          }
          throw error;
        } finally {
          await stopAll(nodes);
          await cluster?.stop();
        }
      } else {
        throw new Error(`unknown target ${target}`);
      }
      log(`  ${target}: done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
  } finally {
    await redis.stop();
  }

  const pigeon = compact(results.pigeon);
  const baseline = compact(results.baseline);
  const ratio = pigeon && baseline && baseline.deliveriesPerSec ? Math.round((pigeon.deliveriesPerSec / baseline.deliveriesPerSec) * 1000) / 1000 : null;
  return {
    // Its own section in docs/BENCHMARKS.md, so a sharded run never replaces the classic figures.
    scenario: cfg.adapter === 'sharded' ? 'fanout-sharded' : 'fanout',
    metric: `deliveries/s at p99 send-to-receive <= ${cfg.p99LimitMs} ms with no loss`,
    config: cfg,
    summary: { pigeon, baseline, ratio, target: 0.85, meetsTarget: ratio === null ? null : ratio >= 0.85 },
    results,
    redis: redis.private ? 'private redis-server on loopback' : redis.url,
    argv: argvText,
  };
}

module.exports = { run, DEFAULTS };
