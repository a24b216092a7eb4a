'use strict';
/**
 * Fault injection for Pigeon. `npm run chaos [-- SCENARIO] [--clients N] [--rate R] [--group G]
 * [--minutes M]`. Scenarios: node-kill, redis-outage, postgres-outage, slow-network, soak,
 * worker-kill, outbox (bench/chaos/outbox.js); no scenario runs the first four one after another,
 * each in its own process.
 * Each scenario starts its own Postgres and Redis (spare ports, temp dir) and its own API nodes,
 * and removes all of it on exit or SIGINT. See bench/chaos/README.md.
 */
const { execFile, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { io } = require('socket.io-client');
const lib = require('./lib');
const { loadSdk, startCluster, populate, reconnectDb } = require('./cluster');
const { Fleet } = require('./fleet');
const { reconcile, print, heads } = require('./reconcile');
const { outboxScenario } = require('./outbox');

const { sleep, log } = lib;
const RESULTS = path.join(__dirname, 'results');

function parseArgs(argv) {
  const args = { scenario: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const key = a.slice(2);
      const value = argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : 'true';
      args[key] = value;
    } else args.scenario = a;
  }
  return args;
}
const args = parseArgs(process.argv.slice(2));
const num = (key, fallback) => (args[key] !== undefined ? Number(args[key]) : fallback);

/** The p-quantile of a list of numbers (null when empty). */
function pctOf(values, p) {
  const sorted = values.filter((v) => typeof v === 'number').sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : null;
}

/** {value: how many times it occurs}. */
function countValues(values) {
  const out = {};
  for (const v of values) out[v] = (out[v] || 0) + 1;
  return out;
}

/** When the watchdog ends the scenario (set in main). */
let boundAt = Infinity;

/** Resolves after `ms` counted from `since`. */
const until = (since, ms) => sleep(Math.max(0, since + ms - Date.now()));

/** Time from `since` until every client is ready and a send issued after `since` is acked ok. */
async function recovery(fleet, since, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (fleet.allReady() && fleet.sends.some((s) => s.ok && s.tSent >= since)) return Date.now() - since;
    await sleep(100);
  }
  return null;
}

async function setup(name, { nodes = 3, worker = false, users, groupSize, env }) {
  const sdk = loadSdk();
  const cluster = await startCluster({ nodes, worker, env });
  const pop = await populate(cluster.apis.map((n) => n.url), { users, groupSize });
  return { sdk, cluster, pop };
}

async function finish(name, cluster, fleet, pop, extra, pass, options = {}) {
  fleet.stop();
  log('load stopped; draining outstanding sends (up to 60 s)');
  await fleet.drain(60_000);
  const { report, stored } = await reconcile(cluster, fleet, { channels: pop.channels });
  Object.assign(report, extra);
  const scenarioChecks = pass ? pass(report, stored) : {};
  report.unexpectedProcessExits = lib.unexpectedExits.map((e) => ({ ...e, lastOutput: e.lastOutput.slice(-300) }));
  report.scenarioChecks = scenarioChecks;
  report.pass = report.universalPass && Object.values(scenarioChecks).every(Boolean);
  fleet.close();
  return record(name, cluster, report, options);
}

/** Prints the figures, writes them to results/, and keeps the log of every node that logged errors. */
function record(name, cluster, report, { keepLogs = true } = {}) {
  print(name, report);
  fs.mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify({ scenario: name, args, at: new Date().toISOString(), report }, null, 2));
  log(`figures written to ${path.relative(lib.ROOT, file)}`);
  // Keep the last lines of each node's log with the result (server errors are evidence).
  if (!keepLogs) return report;
  for (const n of [...cluster.apis, ...(cluster.worker ? [cluster.worker] : [])]) {
    const errors = n.output.split('\n').filter((l) => /"level":(50|60)|error/i.test(l) && !/VapidKeysService/.test(l));
    if (errors.length) {
      fs.writeFileSync(file.replace(/\.json$/, `.${n.name}.log`), n.output.slice(-100_000));
      log(`${n.name}: ${errors.length} error lines (log kept next to the figures); first: ${errors[0].slice(0, 300)}`);
    }
  }
  return report;
}

/**
 * For a fault at `t`: the clients that lost their connection within `windowMs` after it, and the
 * time from `t` until the last of them was ready again (null if one never was).
 */
function resumeAfter(fleet, t, windowMs = 5000) {
  const affected = fleet.clients.filter((s) => s.disconnects.some((d) => d.t >= t && d.t < t + windowMs));
  let worst = 0;
  for (const s of affected) {
    const d = s.disconnects.find((x) => x.t >= t && x.t < t + windowMs);
    const ready = s.readies.find((r) => r > d.t);
    if (ready === undefined) return { affected: affected.length, allResumedMs: null };
    worst = Math.max(worst, ready - t);
  }
  return { affected: affected.length, allResumedMs: worst };
}

/** ms from `t` to the first ok ack of a send issued after `t`. */
function firstOkAfter(fleet, t) {
  const acks = fleet.sends.filter((s) => s.ok && s.tSent >= t).map((s) => s.tAck);
  return acks.length ? Math.min(...acks) - t : null;
}

/** Sends one probe message from `client` and resolves with the message id. */
async function probeSend(fleet, state) {
  const before = fleet.sends.length;
  fleet.send(state);
  const record = fleet.sends[before];
  while (!record.tAck) await sleep(20);
  return record;
}

// ---------------------------------------------------------------------------------------------

const scenarios = {
  /** SIGTERM each of three API nodes in turn under load, restart it, wait for ready (bench/chaos/rolling-deploy.js). */
  'rolling-deploy': () => require('./rolling-deploy').rollingDeploy({ num, setup, finish, resumeAfter, firstOkAfter }),

  /** kill -9 one of three API nodes every 20 s and restart it on the same port. */
  async 'node-kill'() {
    const clients = num('clients', 200);
    const rate = num('rate', 500);
    const kills = num('kills', 3);
    const { sdk, cluster, pop } = await setup('node-kill', { users: clients, groupSize: num('group', 10) });
    const { apis } = cluster;
    const proxy = await new lib.TcpProxy(apis.map((n) => () => n.port), { isAlive: (i) => apis[i].alive }).listen();
    const fleet = new Fleet(sdk, pop.users, () => proxy.url, { tag: `nk${Date.now().toString(36)}` });
    await fleet.connect();
    log(`${clients} clients ready through the round-robin proxy; sending ${rate}/s`);
    const start = Date.now();
    fleet.start(rate);
    const killLog = [];
    const recoveries = [];
    for (let k = 0; k < kills; k++) {
      await until(start, 10_000 + k * 20_000);
      const victim = apis[k % apis.length];
      const tKill = Date.now();
      await victim.kill('SIGKILL');
      log(`kill -9 ${victim.name} (port ${victim.port}); ${fleet.pending()} sends pending`);
      recoveries.push(recovery(fleet, tKill));
      const tRestart = Date.now();
      await victim.startWithRetry();
      killLog.push({ node: victim.name, port: victim.port, t: tKill, atS: Math.round((tKill - start) / 1000), restartMs: Date.now() - tRestart });
      log(`${victim.name} back on port ${victim.port} after ${Date.now() - tKill} ms`);
    }
    await until(start, 10_000 + kills * 20_000);
    const recoverMs = await Promise.all(recoveries);
    const seconds = (Date.now() - start) / 1000;
    return finish('node-kill', cluster, fleet, pop, {
      config: { clients, rate, groupSize: num('group', 10), nodes: 3, kills },
      achievedOkAcksPerSec: Math.round(fleet.sends.filter((s) => s.ok && s.tAck - start <= seconds * 1000).length / seconds),
      kills: killLog.map(({ t, ...k }) => ({ ...k, ...resumeAfter(fleet, t), firstOkAckAfterKillMs: firstOkAfter(fleet, t) })),
      timeToRecoverMs: recoverMs,
    }, (r) => ({
      noAckedLost: r.ackedLost === 0,
      noDuplicates: r.duplicatesStored === 0 && r.duplicatesDelivered === 0,
      noGaps: r.gaps === 0 && r.notCaughtUpAtEnd === 0,
      everyClientResumed: r.clientsResumed === r.clientsDisconnected && r.clientsReadyAtEnd === r.clients,
      allSendsSettled: r.unsettledAtEnd === 0,
    }));
  },

  /** SIGSTOP Redis 10 s, SIGCONT, then kill -9 it and restart it empty on the same port. */
  async 'redis-outage'() {
    const clients = num('clients', 60);
    const rate = num('rate', 150);
    const { sdk, cluster, pop } = await setup('redis-outage', { users: clients, groupSize: num('group', 6) });
    const { apis, redis } = cluster;
    const fleet = new Fleet(sdk, pop.users, (i) => apis[i % apis.length].url, { tag: `ro${Date.now().toString(36)}` });
    await fleet.connect();
    // Live fan-out probe: raw sockets (no sync, no gap repair) of the owner on nodes 1 and 2;
    // a message sent by a client of node 0 must reach them as a live `event`.
    const probeSockets = apis.slice(1).map((n) =>
      io(`${n.url}/rt`, { auth: { token: pop.owner.accessToken }, transports: ['websocket'], forceNew: true, reconnectionDelayMax: 1000 }),
    );
    const liveSeen = probeSockets.map(() => new Set());
    probeSockets.forEach((s, i) => s.on('event', (e) => e.data && liveSeen[i].add(e.data.clientMsgId)));
    const sender = fleet.clients[0]; // on node 0
    const probe = async (timeoutMs = 3000) => {
      const record = await probeSend(fleet, sender);
      if (!record.ok) return { ok: false, why: `send ${record.error}` };
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (liveSeen.every((seen) => seen.has(record.clientMsgId))) return { ok: true, ms: record.tAck - record.tSent };
        await sleep(20);
      }
      return { ok: false, why: 'not delivered live to nodes 1 and 2', clientMsgId: record.clientMsgId };
    };
    await sleep(1000);
    const baselineProbe = await probe();
    log(`baseline fan-out probe: ${JSON.stringify(baselineProbe)}`);
    const start = Date.now();
    fleet.start(rate);
    await until(start, 10_000);
    const tStop = Date.now();
    redis.stop();
    log('redis SIGSTOP');
    await until(tStop, 10_000);
    const tCont = Date.now();
    redis.cont();
    log('redis SIGCONT');
    await until(tCont, 5_000);
    const tKill = Date.now();
    await redis.kill();
    await redis.start();
    const tBack = Date.now();
    log(`redis killed and restarted empty on ${redis.port} (${tBack - tKill} ms)`);
    const recoverP = recovery(fleet, tBack);
    // Fan-out recovery: probe once a second until a live message crosses nodes again.
    let fanoutRecoveredMs = null;
    const probes = [];
    while (Date.now() - tBack < 40_000) {
      const p = await probe(2000);
      probes.push(p);
      if (p.ok) {
        fanoutRecoveredMs = Date.now() - tBack;
        break;
      }
      await sleep(500);
    }
    log(`fan-out after restart: ${fanoutRecoveredMs === null ? 'NOT recovered in 40 s' : `${fanoutRecoveredMs} ms`}`);
    await until(tBack, 20_000);
    const recoverMs = await recoverP;
    const inStop = fleet.sends.filter((s) => s.tSent >= tStop && s.tSent < tCont);
    const answeredInStop = fleet.errorTimes.filter(([t]) => t >= tStop && t < tCont + 1000);
    probeSockets.forEach((s) => s.close());
    return finish('redis-outage', cluster, fleet, pop, {
      config: { clients, rate, groupSize: num('group', 6), nodes: 3 },
      baselineProbe,
      sendsIssuedDuringSigstop: inStop.length,
      ofThoseAckedOkBeforeSigcont: inStop.filter((s) => s.ok && s.tAck < tCont).length,
      errorsAnsweredDuringSigstop: answeredInStop.reduce((acc, [, c]) => ((acc[c] = (acc[c] || 0) + 1), acc), {}),
      fanoutRecoveredMsAfterRestart: fanoutRecoveredMs,
      failedProbes: probes.filter((p) => !p.ok).slice(0, 5),
      timeToRecoverMsAfterRestart: recoverMs,
    }, (r) => ({
      noAckedLost: r.ackedLost === 0,
      fanoutRecovered: fanoutRecoveredMs !== null,
      allSendsSettled: r.unsettledAtEnd === 0,
    }));
  },

  /** pg_ctl stop -m fast for 10 s, then start. No ok ack may be produced while it is down. */
  async 'postgres-outage'() {
    const clients = num('clients', 60);
    const rate = num('rate', 150);
    const { sdk, cluster, pop } = await setup('postgres-outage', { users: clients, groupSize: num('group', 6) });
    const { apis, pg } = cluster;
    const fleet = new Fleet(sdk, pop.users, (i) => apis[i % apis.length].url, { tag: `po${Date.now().toString(36)}` });
    await fleet.connect();
    const start = Date.now();
    fleet.start(rate);
    await until(start, 10_000);
    const tStopIssued = Date.now();
    await pg.stopAsync('fast');
    const tStopped = Date.now();
    log(`postgres stopped (${tStopped - tStopIssued} ms)`);
    await until(tStopped, 10_000);
    const tStartIssued = Date.now();
    await pg.startAsync();
    const tStarted = Date.now();
    log(`postgres started (${tStarted - tStartIssued} ms)`);
    await reconnectDb(cluster);
    const recoverMs = await recovery(fleet, tStarted);
    await until(tStarted, 20_000);
    const duringOutage = fleet.sends.filter((s) => s.ok && s.tAck >= tStopped && s.tAck < tStartIssued);
    const answered = fleet.errorTimes.filter(([t]) => t >= tStopIssued && t < tStarted);
    return finish('postgres-outage', cluster, fleet, pop, {
      config: { clients, rate, groupSize: num('group', 6), nodes: 3 },
      outageWindowMs: { stopIssuedToStopped: tStopped - tStopIssued, down: tStartIssued - tStopped, startTook: tStarted - tStartIssued },
      okAcksWhileDown: duringOutage.length,
      okAcksWhileDownExamples: duringOutage.slice(0, 5).map((s) => ({ clientMsgId: s.clientMsgId, ackAtMsAfterStopped: s.tAck - tStopped })),
      okAcksDuringStopCommand: fleet.sends.filter((s) => s.ok && s.tAck >= tStopIssued && s.tAck < tStopped).length,
      sendsIssuedWhileDown: fleet.sends.filter((s) => s.tSent >= tStopped && s.tSent < tStartIssued).length,
      errorsAnsweredDuringOutage: answered.reduce((acc, [, c]) => ((acc[c] = (acc[c] || 0) + 1), acc), {}),
      timeToRecoverMsAfterStart: recoverMs,
      _window: { tStopIssued, tStopped, tStartIssued },
    }, (r, stored) => {
      // An ok ack received while Postgres was down is only legitimate if its transaction ran
      // before the stop (created_at is the transaction's start time).
      const bogus = duringOutage.filter((s) => !stored.has(s.clientMsgId) || stored.get(s.clientMsgId).createdAt >= tStopIssued);
      r.okAcksWhileDownNotCommittedBefore = bogus.length;
      return {
        noAckedLost: r.ackedLost === 0,
        noOkAckWhileDown: bogus.length === 0,
        errorsAnswered: Object.keys(r.errorsAnsweredDuringOutage).length > 0,
        recovered: recoverMs !== null,
        allSendsSettled: r.unsettledAtEnd === 0,
      };
    });
  },

  /** A proxy in front of node 0 adds 200 ms each way and resets connections now and then. */
  async 'slow-network'() {
    const clients = num('clients', 60);
    const rate = num('rate', 150);
    const seconds = num('seconds', 60);
    const { sdk, cluster, pop } = await setup('slow-network', { users: clients, groupSize: num('group', 6) });
    const { apis } = cluster;
    const slow = await new lib.TcpProxy([() => apis[0].port], { latencyMs: num('latency', 200), resetEveryMs: num('reset-every', 1500) }).listen();
    const fleet = new Fleet(sdk, pop.users, (i) => (i % 3 === 0 ? slow.url : apis[i % 3].url), { tag: `sn${Date.now().toString(36)}`, requestTimeoutMs: 5000 });
    await fleet.connect(10);
    log(`${clients} clients ready (a third through the slow proxy); ${rate}/s for ${seconds} s`);
    const start = Date.now();
    fleet.start(rate);
    await until(start, seconds * 1000);
    // Resets stop with the load (latency stays), so the end state is judged without a fresh reset.
    fleet.stop();
    clearInterval(slow.resetTimer);
    const settleDeadline = Date.now() + 20_000;
    while (!fleet.allReady() && Date.now() < settleDeadline) await sleep(200);
    const report = await finish('slow-network', cluster, fleet, pop, {
      config: { clients, rate, seconds, groupSize: num('group', 6), latencyMsEachWay: num('latency', 200), resetEveryMs: num('reset-every', 1500) },
      proxyResets: slow.resets,
    }, (r) => ({
      noAckedLost: r.ackedLost === 0,
      noDuplicates: r.duplicatesStored === 0 && r.duplicatesDelivered === 0,
      orderHolds: r.outOfOrder === 0 && r.gaps === 0,
      everyClientResumed: r.clientsResumed === r.clientsDisconnected && r.clientsReadyAtEnd === r.clients,
      allSendsSettled: r.unsettledAtEnd === 0,
    }));
    await slow.close();
    return report;
  },

  /** Steady load for --minutes (default 10); RSS and event-loop lag of each API node sampled. */
  async soak() {
    const minutes = num('minutes', 10);
    const clients = num('clients', 60);
    const rate = num('rate', 100);
    const { sdk, cluster, pop } = await setup('soak', { users: clients, groupSize: num('group', 6) });
    const { apis } = cluster;
    const fleet = new Fleet(sdk, pop.users, (i) => apis[i % apis.length].url, { tag: `sk${Date.now().toString(36)}` });
    await fleet.connect();
    const RSS = 'pigeon_process_resident_memory_bytes';
    const LAG = 'pigeon_nodejs_eventloop_lag_seconds';
    const samples = apis.map(() => []);
    const sample = async () => {
      await Promise.all(apis.map(async (n, i) => {
        const m = await lib.scrape(n.url, [RSS, LAG]).catch(() => ({}));
        if (m[RSS] !== undefined) samples[i].push({ t: (Date.now() - start) / 60_000, rssMb: m[RSS] / 1048576, lagMs: (m[LAG] ?? 0) * 1000 });
      }));
    };
    const start = Date.now();
    fleet.start(rate);
    const every = num('sample-seconds', 10) * 1000;
    while (Date.now() - start < minutes * 60_000) {
      await sample();
      await sleep(every);
    }
    await sample();
    const slope = (pts, key) => {
      const n = pts.length;
      if (n < 2) return null;
      const mx = pts.reduce((a, p) => a + p.t, 0) / n;
      const my = pts.reduce((a, p) => a + p[key], 0) / n;
      const num_ = pts.reduce((a, p) => a + (p.t - mx) * (p[key] - my), 0);
      const den = pts.reduce((a, p) => a + (p.t - mx) ** 2, 0);
      return den ? num_ / den : null;
    };
    // The first two minutes are warm-up (JIT, pools, caches); the slope is taken after them when the run is long enough.
    const settled = (pts) => (pts.length && pts[pts.length - 1].t > 4 ? pts.filter((p) => p.t >= 2) : pts);
    const perNode = apis.map((n, i) => ({
      node: n.name,
      samples: samples[i].length,
      rssMbFirst: samples[i][0] && +samples[i][0].rssMb.toFixed(1),
      rssMbLast: samples[i].length && +samples[i][samples[i].length - 1].rssMb.toFixed(1),
      rssSlopeMbPerMin: +(slope(settled(samples[i]), 'rssMb') ?? 0).toFixed(2),
      lagMsMax: +Math.max(...samples[i].map((p) => p.lagMs)).toFixed(1),
      lagSlopeMsPerMin: +(slope(settled(samples[i]), 'lagMs') ?? 0).toFixed(3),
    }));
    return finish('soak', cluster, fleet, pop, { config: { minutes, clients, rate, nodes: 3 }, perNode }, (r) => ({
      noAckedLost: r.ackedLost === 0,
      allSendsSettled: r.unsettledAtEnd === 0,
    }));
  },

  /**
   * 100 recorded voice uploads transcoded by one worker (VOICE_JOB_LOCK_MS=3000); the worker is
   * killed -9 twice while a job is active and restarted at once. Every voice must end `ready` with
   * exactly one `message.updated` (status ready) in its channel's log, and the log stays contiguous.
   * `--second-kill any` (default) kills the second time once half the voices are ready; `rerun` kills
   * while a job interrupted by the first kill is being re-run (that job then stalls twice).
   */
  async 'worker-kill'() {
    const voices = num('voices', 100);
    const nodes = num('nodes', 2);
    const channelsWanted = num('channels', 4);
    const secondKill = args['second-kill'] || 'any';
    const lockMs = num('lock-ms', 3000);
    let voiceDir;
    let workTmp;
    const cluster = await startCluster({
      nodes,
      worker: true,
      env: (dir) => {
        voiceDir = path.join(dir, 'voice');
        workTmp = path.join(dir, 'tmp'); // the worker's ffmpeg work dirs (os.tmpdir()), removed with the rest
        for (const d of [voiceDir, workTmp]) fs.mkdirSync(d, { recursive: true });
        return { VOICE_STORAGE_DIR: voiceDir, VOICE_JOB_LOCK_MS: String(lockMs), TMPDIR: workTmp };
      },
    });
    const { apis, worker, db } = cluster;
    const pop = await populate(apis.map((n) => n.url), { users: channelsWanted * 2, groupSize: 2 });
    const Redis = require('ioredis');
    const redis = new Redis(cluster.redis.url, { maxRetriesPerRequest: 1, lazyConnect: false });
    lib.onCleanup(() => redis.disconnect());
    redis.on('error', () => undefined);

    // Clips of 5-20 s (a few distinct ones, each uploaded many times).
    const ffmpeg = require('@ffmpeg-installer/ffmpeg').path;
    const clipDir = path.join(cluster.dir, 'clips');
    fs.mkdirSync(clipDir, { recursive: true });
    const durations = [5, 8, 11, 14, 17, 20];
    const clips = await Promise.all(durations.map(async (seconds, i) => {
      const file = path.join(clipDir, `tone-${seconds}.wav`);
      await new Promise((resolve, reject) => execFile(ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', `sine=frequency=${300 + 70 * i}:duration=${seconds}`, '-af', `volume='0.2+0.8*t/${seconds}':eval=frame`, '-ac', '1', '-ar', '44100', file], (e) => (e ? reject(e) : resolve())));
      return { seconds, bytes: fs.readFileSync(file) };
    }));
    log(`${clips.length} clips of ${durations.join('/')} s generated; uploading ${voices} voices to ${pop.channels.length} channels through ${nodes} API nodes`);

    const uploads = []; // {i, status, messageId, voiceId, channelId, seq, voiceStatus, ms}
    const upload = async (i) => {
      const user = pop.users[i % pop.users.length];
      const clip = clips[i % clips.length];
      const form = new FormData();
      form.append('clientMsgId', `wk-${i}-${Date.now().toString(36)}`);
      form.append('file', new Blob([new Uint8Array(clip.bytes)], { type: 'audio/wav' }), `clip-${i}.wav`);
      const t = Date.now();
      const record_ = { i, channelId: user.channelId, seconds: clip.seconds };
      try {
        const response = await fetch(`${apis[i % apis.length].url}/api/workspaces/${pop.workspaceId}/channels/${user.channelId}/voice`, {
          method: 'POST',
          headers: { authorization: `Bearer ${user.accessToken}` },
          body: form,
        });
        const body = await response.json().catch(() => undefined);
        Object.assign(record_, { status: response.status, messageId: body && body.id, voiceId: body && body.voice && body.voice.id, seq: body && body.seq, voiceStatus: body && body.voice && body.voice.status });
        if (response.status !== 202) record_.error = JSON.stringify(body).slice(0, 300);
      } catch (error) {
        record_.status = 0;
        record_.error = String(error);
      }
      record_.ms = Date.now() - t;
      record_.tDone = Date.now();
      uploads.push(record_);
    };

    const readyCount = async () => Number((await db.query("SELECT count(*)::int AS n FROM voice_clips WHERE status = 'ready'")).rows[0].n);
    const activeJobs = () => redis.lrange('pigeon:bull:voice:active', 0, -1);
    /** PIDs whose parent is `pid` (the worker's ffmpeg children). */
    const childrenOf = (pid) => {
      const out = [];
      for (const entry of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        try {
          const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
          if (ppid === pid) out.push(Number(entry));
        } catch {
          /* gone */
        }
      }
      return out;
    };
    const alivePid = (pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const killLog = [];
    const orphans = new Set();
    lib.onCleanup(() => orphans.forEach((pid) => alivePid(pid) && process.kill(pid, 'SIGKILL')));
    const killWorker = async (why) => {
      const active = await activeJobs();
      const pid = worker.child.pid;
      const children = childrenOf(pid);
      const t = Date.now();
      const ready = await readyCount();
      await worker.kill('SIGKILL');
      log(`kill -9 worker (pid ${pid}, ${why}): active ${JSON.stringify(active)}, ${ready} ready, ffmpeg children ${JSON.stringify(children)}`);
      const tRestart = Date.now();
      await worker.startWithRetry();
      const entry = { atS: +((t - start) / 1000).toFixed(1), why, activeJobs: active, readyAtKill: ready, restartMs: Date.now() - tRestart, ffmpegChildren: children, t };
      killLog.push(entry);
      log(`worker restarted in ${entry.restartMs} ms`);
      // A killed worker's ffmpeg is orphaned; it should die on its closed stdout pipe.
      setTimeout(() => {
        entry.ffmpegStillAliveAfter5s = children.filter(alivePid);
        entry.ffmpegStillAliveAfter5s.forEach((p) => orphans.add(p));
      }, 5000).unref();
      return entry;
    };

    const start = Date.now();
    // Uploads: 6 at a time; the kills run alongside.
    let nextUpload = 0;
    const uploading = Promise.all(Array.from({ length: 6 }, async () => {
      while (nextUpload < voices) await upload(nextUpload++);
    })).then(() => log(`uploads done in ${Date.now() - start} ms: ${uploads.filter((u) => u.status === 202).length} accepted`));

    const waitFor = async (predicate, timeoutMs, what) => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (await predicate()) return true;
        await sleep(50);
      }
      log(`gave up waiting for ${what} after ${timeoutMs} ms`);
      return false;
    };
    const firstKillAt = Math.ceil(voices * 0.15);
    await waitFor(async () => (await readyCount()) >= firstKillAt && (await activeJobs()).length > 0, 90_000, `${firstKillAt} ready and an active job`);
    const kill1 = await killWorker(`${firstKillAt}+ ready, job active`);
    if (secondKill === 'rerun') {
      // While the restarted worker re-runs a job the first kill interrupted (attempts started > 1).
      const victims = new Set(kill1.activeJobs);
      await waitFor(async () => {
        for (const id of await activeJobs()) if (victims.has(id) && Number(await redis.hget(`pigeon:bull:voice:${id}`, 'ats')) > 1) return true;
        return false;
      }, 30_000, 're-run of a job interrupted by the first kill');
      await killWorker('re-run of an interrupted job active');
    } else {
      const secondAt = Math.ceil(voices * 0.5);
      await waitFor(async () => (await readyCount()) >= secondAt && (await activeJobs()).length > 0, 90_000, `${secondAt} ready and an active job`);
      await killWorker(`${secondAt}+ ready, job active`);
    }
    await uploading;
    const accepted = uploads.filter((u) => u.status === 202);
    const voiceIds = accepted.map((u) => u.voiceId);

    // Drain: until every accepted voice is ready or failed, or the bound is near.
    const tLastKill = killLog[killLog.length - 1].t;
    const drainDeadline = Math.min(start + num('drain-seconds', 120) * 1000, boundAt - 20_000);
    let settled = [];
    while (Date.now() < drainDeadline) {
      settled = (await db.query("SELECT id::text, status FROM voice_clips WHERE id = ANY($1::uuid[]) AND status IN ('ready', 'failed')", [voiceIds])).rows;
      if (settled.length === voiceIds.length) break;
      await sleep(200);
    }
    const tDrained = Date.now();
    const drained = settled.length === voiceIds.length;
    log(drained ? `all ${voiceIds.length} voices settled` : `NOT drained: ${voiceIds.length - settled.length} voices still unsettled`);

    // Postgres: clip status, events per message, contiguous log.
    const clipRows = (await db.query('SELECT id::text, message_id::text, status, failure_reason, updated_at FROM voice_clips WHERE id = ANY($1::uuid[])', [voiceIds])).rows;
    const byStatus = {};
    for (const r of clipRows) byStatus[r.status] = (byStatus[r.status] || 0) + 1;
    const lastReadyAt = Math.max(...clipRows.filter((r) => r.status === 'ready').map((r) => new Date(r.updated_at).getTime()));
    const eventRows = (
      await db.query(
        `SELECT data->>'id' AS message_id, count(*)::int AS updated,
                count(*) FILTER (WHERE data->'voice'->>'status' = 'ready')::int AS ready_events,
                count(*) FILTER (WHERE data->'voice'->>'status' = 'failed')::int AS failed_events
           FROM channel_events WHERE channel_id = ANY($1) AND type = 'message.updated' GROUP BY 1`,
        [pop.channels],
      )
    ).rows;
    const events = new Map(eventRows.map((r) => [r.message_id, r]));
    const messageIds = accepted.map((u) => u.messageId);
    const readyEventCounts = messageIds.map((id) => (events.get(id) ? events.get(id).ready_events : 0));
    const createdRows = (await db.query("SELECT data->>'id' AS message_id, count(*)::int AS n FROM channel_events WHERE channel_id = ANY($1) AND type = 'message.created' GROUP BY 1", [pop.channels])).rows;
    const created = new Map(createdRows.map((r) => [r.message_id, r.n]));
    const channelHeads = await heads(db, pop.channels);
    const logRows = (await db.query('SELECT channel_id, seq FROM channel_events WHERE channel_id = ANY($1) ORDER BY channel_id, seq', [pop.channels])).rows;
    let gaps = 0;
    const perChannel = {};
    for (const channelId of pop.channels) {
      const seqs = logRows.filter((r) => r.channel_id === channelId).map((r) => Number(r.seq));
      const head = channelHeads.get(channelId) ?? 0;
      const have = new Set(seqs);
      let missing = 0;
      for (let s_ = 1; s_ <= head; s_++) if (!have.has(s_)) missing++;
      const extra = seqs.filter((s_) => s_ > head).length + (seqs.length - have.size);
      gaps += missing + extra;
      perChannel[channelId.slice(0, 8)] = { head, events: seqs.length, missing, extra };
    }

    // BullMQ: how often each job was started (ats), stalled (stc), failed attempts (atm), final state.
    const jobs = await Promise.all(voiceIds.map(async (id) => {
      const h = await redis.hgetall(`pigeon:bull:voice:${id}`);
      const [completed, failed] = await Promise.all([redis.zscore('pigeon:bull:voice:completed', id), redis.zscore('pigeon:bull:voice:failed', id)]);
      return { id, ats: Number(h.ats || 0), stc: Number(h.stc || 0), atm: Number(h.atm || 0), state: completed ? 'completed' : failed ? 'failed' : h.processedOn ? 'active/waiting' : 'waiting', failedReason: h.failedReason, processedOn: Number(h.processedOn || 0), finishedOn: Number(h.finishedOn || 0) };
    }));
    const rerun = jobs.filter((j) => j.ats > 1);
    const voiceById = new Map(clipRows.map((r) => [r.id, r]));
    const notReady = clipRows.filter((r) => r.status !== 'ready').map((r) => ({
      voiceId: r.id,
      messageId: r.message_id,
      status: r.status,
      failureReason: r.failure_reason,
      job: jobs.find((j) => j.id === r.id),
      killedWhileActive: killLog.filter((k) => k.activeJobs.includes(r.id)).map((k) => k.atS),
    }));
    await sleep(Math.max(0, 5200 - (Date.now() - tLastKill))); // let the orphan check of the last kill run

    const report = {
      config: { voices, nodes, channels: pop.channels.length, clipSeconds: durations, uploadConcurrency: 6, voiceJobLockMs: lockMs, secondKill },
      uploadsAccepted: accepted.length,
      uploadsRejected: uploads.filter((u) => u.status !== 202).map((u) => ({ i: u.i, status: u.status, error: u.error })).slice(0, 10),
      acceptedAsProcessing: accepted.filter((u) => u.voiceStatus === 'processing').length,
      uploadMs: { p50: pctOf(uploads.map((u) => u.ms), 0.5), max: Math.max(...uploads.map((u) => u.ms)) },
      ready: byStatus.ready || 0,
      failed: byStatus.failed || 0,
      clipStatus: byStatus,
      notReady,
      readyEventsPerMessage: countValues(readyEventCounts),
      duplicateReadyEvents: readyEventCounts.reduce((a, n) => a + Math.max(0, n - 1), 0),
      messagesWithoutReadyEvent: readyEventCounts.filter((n) => n === 0).length,
      messageUpdatedPerMessage: countValues(messageIds.map((id) => (events.get(id) ? events.get(id).updated : 0))),
      messageCreatedPerMessage: countValues(messageIds.map((id) => created.get(id) || 0)),
      gaps,
      perChannel,
      // Per kill: when the interrupted job was last started again (BullMQ processedOn) and finished.
      kills: killLog.map(({ t, ...k }) => ({
        ...k,
        interrupted: k.activeJobs.map((id) => {
          const j = jobs.find((x) => x.id === id);
          return j ? { restartedMsAfterKill: j.processedOn ? j.processedOn - t : null, finishedMsAfterKill: j.finishedOn ? j.finishedOn - t : null, state: j.state } : { id, unknown: true };
        }),
      })),
      jobsInterruptedByKills: new Set(killLog.flatMap((k) => k.activeJobs)).size,
      jobsRerun: rerun.length,
      jobsRerunDetail: rerun.map((j) => ({ ...j, voiceStatus: voiceById.get(j.id) && voiceById.get(j.id).status })),
      jobStates: countValues(jobs.map((j) => j.state)),
      jobsStalledTwiceOrMore: jobs.filter((j) => j.stc >= 2).length,
      uploadsDoneMs: Math.max(...uploads.map((u) => u.tDone)) - start,
      drained,
      timeToDrainMsAfterLastKill: drained ? Math.max(lastReadyAt, tLastKill) - tLastKill : null,
      timeToDrainMsFromFirstUpload: drained ? lastReadyAt - start : null,
      observedDrainedAtMs: tDrained - start,
      readyPerSecond: drained ? +((byStatus.ready || 0) / ((lastReadyAt - start) / 1000)).toFixed(2) : null,
      orphanedFfmpegAliveAfter5s: killLog.flatMap((k) => k.ffmpegStillAliveAfter5s || []).length,
      unexpectedProcessExits: lib.unexpectedExits.map((e) => ({ ...e, lastOutput: e.lastOutput.slice(-300) })),
    };
    report.scenarioChecks = {
      allUploadsAccepted: report.uploadsAccepted === voices && report.acceptedAsProcessing === voices,
      everyVoiceReady: report.ready === voices,
      exactlyOneReadyEventEach: report.duplicateReadyEvents === 0 && report.messagesWithoutReadyEvent === 0,
      contiguousLogs: gaps === 0,
      killedTwiceWhileActive: killLog.length === 2 && killLog.every((k) => k.activeJobs.length > 0),
    };
    report.pass = Object.values(report.scenarioChecks).every(Boolean);
    redis.disconnect();
    return record('worker-kill', cluster, report);
  },
};

scenarios.outbox = () => outboxScenario({ num, args, record });

const DEFAULT_SET = ['node-kill', 'redis-outage', 'postgres-outage', 'slow-network'];

async function main() {
  if (!args.scenario || args.scenario === 'all') {
    // One process per scenario, so each one's cluster and cleanup are independent.
    const results = {};
    for (const name of DEFAULT_SET) {
      const r = spawnSync(process.execPath, [__filename, name, ...process.argv.slice(2).filter((a) => a !== 'all')], { stdio: 'inherit' });
      results[name] = r.status === 0 ? 'PASS' : `FAIL (exit ${r.status})`;
    }
    process.stdout.write(`\nchaos summary: ${JSON.stringify(results)}\n`);
    process.exit(Object.values(results).every((v) => v === 'PASS') ? 0 : 1);
  }
  const scenario = scenarios[args.scenario];
  if (!scenario) {
    process.stderr.write(`unknown scenario ${args.scenario}; one of: ${Object.keys(scenarios).join(', ')}\n`);
    process.exit(2);
  }
  if (!fs.existsSync(path.join(lib.DIST, 'main.js'))) throw new Error('dist/ is missing: run `npm run build` (npm run chaos does)');
  lib.resetClock();
  // Hard bound: 3 minutes for the fault scenarios (soak: its duration plus 3 minutes).
  const boundMs = (args.scenario === 'soak' ? num('minutes', 10) * 60_000 : 0) + num('bound-seconds', 180) * 1000;
  boundAt = Date.now() + boundMs;
  const watchdog = setTimeout(() => {
    log(`scenario exceeded its ${boundMs / 1000} s bound: HANG; cleaning up`);
    process.exit(3);
  }, boundMs);
  watchdog.unref();
  const report = await scenario();
  clearTimeout(watchdog);
  process.exit(report.pass ? 0 : 1);
}

main().catch((error) => {
  process.stderr.write(`chaos failed: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
