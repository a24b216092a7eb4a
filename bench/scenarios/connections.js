'use strict';
/**
 * connections: idle authenticated connections ramping up to `target` (19,000) on ONE server
 * process, in `stages`, from `loadProcs` load processes (<= ~5,000 sockets each), each load process
 * binding its sockets to its own loopback source address (127.0.0.2, .3, ...; socket.io-client's
 * `localAddress`, handed down to ws) so no single source address runs short of ephemeral ports.
 * Measured per stage: connect rate (connections/s, handshake to `ready`) and the server's VmRSS
 * (/proc/<pid>/status) after a settle; RSS per connection = (RSS at the top − RSS before the first
 * connection) / connections, and the least-squares slope over the stages. Pigeon vs the bare
 * Socket.IO baseline doing the same. The server's open-files limit (20,000 here) bounds the target.
 */
const path = require('node:path');
const { randomUUID } = require('node:crypto');
const { profileCommand } = require('../lib/profile-step');
const { ROOT, startServer, startPrivateRedis } = require('../lib/procs');
const { LoadPool } = require('../lib/load');
const { freshDatabase, startApiNodes, stopAll, BENCH_REDIS_URL } = require('../lib/pigeon');
const { connectDb, seedWorkspaces, rssKb } = require('../lib/seed');
const { renderTable } = require('../lib/report');
const { summarize } = require('../lib/cpuprofile');

const DEFAULTS = {
  target: 19000,
  stages: 4,
  loadProcs: 4,
  perWorkspace: 1000, // users per workspace (one channel each); 19 workspaces at 19,000
  concurrency: 40, // connects in flight per load process
  settleSec: 4,
  stageDeadlineSec: 120,
  targets: 'baseline,pigeon',
  limitRatio: 1.5,
  cpuProf: false, // profile the Pigeon API during stage 2 (connect path)
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function slope(points) {
  const n = points.length;
  if (n < 2) return null;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const num = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return den ? num / den : null;
}

/** Asks a server started with mem-preload.js for process.memoryUsage(), after a full GC when `gc`. */
function memReport(child, gc) {
  if (!child) return Promise.resolve(null);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('message', on);
      resolve(null);
    }, 20_000);
    const on = (m) => {
      if (m && m.type === 'bench:mem-report') {
        clearTimeout(timer);
        child.off('message', on);
        resolve(m);
      }
    };
    child.on('message', on);
    child.send({ type: 'bench:mem', gc });
  });
}

const MEM_EXEC_ARGV = ['--expose-gc', '-r', path.join(ROOT, 'bench', 'lib', 'mem-preload.js')];

async function ramp(name, { url, pid, child, specs, cfg, log }) {
  const pool = new LoadPool(cfg.loadProcs);
  const stages = [];
  let connected = 0;
  let stopReason = null;
  let profiled = null;
  try {
    await sleep(3000);
    const gc0 = await memReport(child, true); // the same forced full GC before and at the top
    await sleep(500);
    const rss0 = rssKb(pid);
    log(`  ${name}: pid ${pid} RSS before connections ${Math.round(rss0 / 1024)} MiB`);
    const per = Math.ceil(specs.length / cfg.stages);
    for (let s = 0; s < cfg.stages; s++) {
      const slice = specs.slice(s * per, (s + 1) * per);
      if (slice.length === 0) break;
      const profile = cfg.cpuProf && name === 'pigeon' && s === 1 ? path.join(ROOT, 'bench', 'results', `connections-api0-${Date.now()}.cpuprofile`) : null;
      if (profile) await profileCommand(child, 'start');
      const t = Date.now();
      const r = await pool.connect({
        urls: [url],
        channelId: null,
        specs: slice,
        kind: 'raw',
        concurrency: cfg.concurrency,
        localAddressOf: (i) => `127.0.0.${2 + i}`,
        deadlineMs: cfg.stageDeadlineSec * 1000,
      });
      const ms = Date.now() - t;
      if (profile) {
        await profileCommand(child, 'stop', profile);
        profiled = { file: path.relative(ROOT, profile), ...summarize(profile, 20) };
        log(`  ${name}: profile of stage ${s + 1} (connect path), top self time:`);
        for (const f of profiled.topFunctions.slice(0, 12)) log(`    ${String(f.pct).padStart(5)} %  ${f.fn}`);
        for (const a of profiled.byArea.slice(0, 8)) log(`    ${String(a.pct).padStart(5)} %  [${a.area}]`);
      }
      connected += r.connected;
      await sleep(cfg.settleSec * 1000);
      const rss = rssKb(pid);
      const stage = { profiled: !!profile, stage: s + 1, attempted: slice.length, connected: r.connected, total: connected, failed: r.failed, failures: r.failures, ms, perSec: Math.round((r.connected * 1000) / ms), rssKb: rss };
      stages.push(stage);
      log(
        `  ${name}: stage ${s + 1}: +${r.connected} (${r.failed} failed${r.failed ? ` ${JSON.stringify(r.failures)}` : ''}) in ${(ms / 1000).toFixed(1)} s = ${stage.perSec}/s; ` +
          `total ${connected}; RSS ${Math.round(rss / 1024)} MiB (${((rss - rss0) / connected).toFixed(1)} KiB/conn so far)`,
      );
      if (r.failed > 0) {
        stopReason = `stage ${s + 1}: ${r.failed} connects failed ${JSON.stringify(r.failures)}`;
        break;
      }
    }
    await sleep(5000);
    const rssEnd = rssKb(pid);
    const gcEnd = await memReport(child, true);
    await sleep(500);
    const rssEndGc = rssKb(pid);
    const perConnGcKb = connected && gc0 ? Math.round(((rssEndGc - rss0) / connected) * 10) / 10 : null;
    const heapPerConnKb = connected && gc0 && gcEnd ? Math.round(((gcEnd.heapUsedKb - gc0.heapUsedKb) / connected) * 10) / 10 : null;
    if (gcEnd) log(`  ${name}: after a forced full GC: RSS ${Math.round(rssEndGc / 1024)} MiB = ${perConnGcKb} KiB/conn; V8 heap used ${Math.round(gc0.heapUsedKb / 1024)} -> ${Math.round(gcEnd.heapUsedKb / 1024)} MiB = ${heapPerConnKb} KiB/conn`);
    const workers = await pool.clientCounts();
    const perConnKb = connected ? (rssEnd - rss0) / connected : null;
    const fit = slope([{ x: 0, y: rss0 }, ...stages.map((s) => ({ x: s.total, y: s.rssKb }))]);
    // The connect rate leaves out a profiled stage (the sampling profiler slows the process down).
    const rated = stages.filter((s) => !s.profiled);
    const totalMs = rated.reduce((a, s) => a + s.ms, 0);
    const ratedConnected = rated.reduce((a, s) => a + s.connected, 0);
    log(`  ${name}: ${connected} idle connections; RSS ${Math.round(rss0 / 1024)} -> ${Math.round(rssEnd / 1024)} MiB = ${perConnKb && perConnKb.toFixed(1)} KiB per connection (slope ${fit && fit.toFixed(1)} KiB); load processes hold ${workers.map((w) => w.clients).join('+')} sockets`);
    return {
      connected,
      rss0Kb: rss0,
      rssEndKb: rssEnd,
      perConnKb: perConnKb && Math.round(perConnKb * 10) / 10,
      slopeKb: fit && Math.round(fit * 10) / 10,
      connectPerSec: totalMs ? Math.round((ratedConnected * 1000) / totalMs) : null,
      afterGc: gcEnd && { rssKb: rssEndGc, perConnKb: perConnGcKb, heapUsedBeforeKb: gc0.heapUsedKb, heapUsedAfterKb: gcEnd.heapUsedKb, heapPerConnKb, externalKb: gcEnd.externalKb },
      stages,
      stopReason,
      profiled,
      loadProcesses: workers,
    };
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
        log('\nbaseline: bare Socket.IO server');
        const server = await startServer('baseline', path.join(ROOT, 'bench', 'baseline', 'server.js'), {}, { execArgv: MEM_EXEC_ARGV });
        try {
          const channels = Array.from({ length: Math.ceil(cfg.target / cfg.perWorkspace) }, () => randomUUID());
          const specs = Array.from({ length: cfg.target }, (_, i) => ({ token: 'baseline', auth: { token: 'baseline', channels: [channels[Math.floor(i / cfg.perWorkspace)]] } }));
          results.baseline = await ramp('baseline', { url: server.url, pid: server.child.pid, child: server.child, specs, cfg, log });
        } finally {
          await server.stop();
        }
      } else if (target === 'pigeon') {
        log('\npigeon: 1 API process');
        await freshDatabase();
        const execArgv = cfg.cpuProf ? [...MEM_EXEC_ARGV, '-r', path.join(ROOT, 'bench', 'lib', 'cpu-profile-preload.js')] : MEM_EXEC_ARGV;
        const nodes = await startApiNodes(1, { redisUrl: redis.url, execArgv });
        const db = await connectDb();
        try {
          const workspaces = Math.ceil(cfg.target / cfg.perWorkspace);
          const seed = await seedWorkspaces(db, { workspaces, channelsPerWorkspace: 1, usersPerWorkspace: cfg.perWorkspace, log });
          const specs = seed.users.slice(0, cfg.target).map((u) => ({ token: u.token }));
          results.pigeon = await ramp('pigeon', { url: nodes[0].url, pid: nodes[0].child.pid, child: nodes[0].child, specs, cfg, log });
        } catch (error) {
          log(`  api-0 output tail:\n${nodes[0].output().slice(-2000)}`);
          throw error;
        } finally {
          await db.end();
          await stopAll(nodes);
        }
      } else throw new Error(`unknown target ${target}`);
    }
  } finally {
    await redis.stop();
  }

  const p = results.pigeon;
  const b = results.baseline;
  const ratio = p && b && b.perConnKb ? Math.round((p.perConnKb / b.perConnKb) * 100) / 100 : null;
  const rateRatio = p && b && b.connectPerSec ? Math.round((p.connectPerSec / b.connectPerSec) * 100) / 100 : null;
  const row = (name, r) =>
    r
      ? [
          name,
          r.connected.toLocaleString('en-US'),
          `${Math.round(r.rss0Kb / 1024)} → ${Math.round(r.rssEndKb / 1024)} MiB`,
          r.perConnKb,
          r.slopeKb,
          r.afterGc ? r.afterGc.perConnKb : 'n/a',
          r.afterGc ? r.afterGc.heapPerConnKb : 'n/a',
          r.connectPerSec,
          r.stopReason ?? 'target reached',
        ]
      : [name, 'not run', '', '', '', '', '', '', ''];
  const head = ['server', 'idle connections', 'RSS before → at the top', 'RSS KiB per connection', 'slope KiB/conn', 'RSS KiB/conn after forced GC', 'V8 heap KiB/conn after GC', 'connects/s (to ready)', 'ramp'];
  const gcRatio = p && b && p.afterGc && b.afterGc && b.afterGc.perConnKb ? Math.round((p.afterGc.perConnKb / b.afterGc.perConnKb) * 100) / 100 : 'n/a';
  const heapRatio = p && b && p.afterGc && b.afterGc && b.afterGc.heapPerConnKb ? Math.round((p.afterGc.heapPerConnKb / b.afterGc.heapPerConnKb) * 100) / 100 : 'n/a';
  const rows = [row('Pigeon', p), row('bare Socket.IO', b), ['ratio Pigeon / bare', '', '', ratio ?? 'n/a', p && b && b.slopeKb ? Math.round((p.slopeKb / b.slopeKb) * 100) / 100 : 'n/a', gcRatio, heapRatio, rateRatio ?? 'n/a', `target RSS ratio <= ${cfg.limitRatio}: ${ratio === null ? 'n/a' : ratio <= cfg.limitRatio ? 'met' : 'NOT met'}`]];
  const stageTable = (r) => renderTable(['stage', 'connected', 'total', 'failed', 'seconds', 'connects/s', 'RSS MiB'], r.stages.map((s) => [`${s.stage}${s.profiled ? ' (profiled)' : ''}`, s.connected, s.total, s.failed, (s.ms / 1000).toFixed(1), s.perSec, Math.round(s.rssKb / 1024)])).md;
  return {
    scenario: 'connections',
    metric: 'server RSS per idle authenticated connection (VmRSS delta / connections) and connect rate, ramping to the target on one process',
    config: cfg,
    summary: {
      pigeon: p && { connected: p.connected, perConnKb: p.perConnKb, slopeKb: p.slopeKb, connectPerSec: p.connectPerSec, stopReason: p.stopReason },
      baseline: b && { connected: b.connected, perConnKb: b.perConnKb, slopeKb: b.slopeKb, connectPerSec: b.connectPerSec, stopReason: b.stopReason },
      rssRatio: ratio,
      connectRateRatio: rateRatio,
      meetsTarget: ratio === null ? null : ratio <= cfg.limitRatio && p.connected >= cfg.target,
    },
    results,
    doc: {
      what: [
        `What: ${cfg.target.toLocaleString('en-US')} idle connections to ONE server process, opened in ${cfg.stages} stages by ${cfg.loadProcs} load processes (bare socket.io-client, websocket, ${cfg.concurrency} connects in flight each, ≤ ${Math.ceil(cfg.target / cfg.loadProcs).toLocaleString('en-US')} sockets per process), each process bound to its own loopback source address (127.0.0.2 …, \`localAddress\`). A connection counts once \`ready\` arrived (Pigeon: JWT handshake, membership query, rooms, presence).`,
        `Pigeon users: ${Math.ceil(cfg.target / cfg.perWorkspace)} workspaces × ${cfg.perWorkspace.toLocaleString('en-US')} users, one channel each, inserted by SQL (one shared argon2 hash); tokens signed by the harness with the API's JWT_SECRET (HS256 {sub, typ:"access"}, \`bench/lib/seed.js\`), so no REST registration. Baseline sockets join one of as many channel rooms.`,
        `RSS: VmRSS of the server process from /proc/<pid>/status, before the first connection (after a forced full GC) and ${cfg.settleSec} s after each stage (the last one 5 s more); then once more after a forced full GC at the top. Both servers run with \`--expose-gc -r bench/lib/mem-preload.js\` (an IPC hook that runs global.gc() and reports process.memoryUsage(); nothing in the server's code path), so retained memory can be told from garbage not collected yet. Per connection = (top − before) / connections; the slope is a least-squares fit over the stages. Includes whatever the GC has not returned yet, on both sides. The open-files limit of the process is 20,000 here, which bounds the target.`,
      ],
      target: `Pigeon RSS per connection <= ${cfg.limitRatio} × the bare server's (≈ 14.5 KB), at ${cfg.target.toLocaleString('en-US')} connections.`,
      head,
      rows,
      extraMd: [
        p ? `Pigeon stages:\n\n${stageTable(p)}` : '',
        '',
        b ? `Baseline stages:\n\n${stageTable(b)}` : '',
        '',
        p && p.profiled
          ? `CPU profile of the Pigeon API during stage 2 (connect path; \`${p.profiled.file}\`), top self time:\n\n${renderTable(['% of samples', 'self ms', 'function'], p.profiled.topFunctions.slice(0, 15).map((f) => [f.pct, f.selfMs, `\`${f.fn}\``])).md}\n\nBy area:\n\n${renderTable(['% of samples', 'area'], p.profiled.byArea.slice(0, 10).map((a) => [a.pct, `\`${a.area}\``])).md}`
          : '',
      ].join('\n'),
      summaryLines: [`connections: Pigeon ${p ? p.connected : 'n/a'} conns, ${p ? p.perConnKb : 'n/a'} KiB/conn; bare ${b ? b.perConnKb : 'n/a'} KiB/conn; ratio ${ratio ?? 'n/a'} (target <= ${cfg.limitRatio}); connects/s ${p ? p.connectPerSec : 'n/a'} vs ${b ? b.connectPerSec : 'n/a'}.`],
    },
  };
}

module.exports = { run, DEFAULTS };
