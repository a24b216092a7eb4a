'use strict';
/**
 * voice: recorded-voice transcoding speed and live-voice relay latency. No baseline (a bare
 * Socket.IO server neither transcodes nor relays recordings).
 *
 * 1. Transcoding: the API and the voice worker (`dist/worker.js`, same env, one temp
 *    VOICE_STORAGE_DIR) run; a `clipSec` (60 s) sine clip is made with the bundled ffmpeg as Ogg/Opus
 *    32 kb/s and as WAV (PCM s16 mono 44.1 kHz), each uploaded `transcodeRuns` times in turn over
 *    `POST /api/workspaces/:wid/channels/:cid/voice` (202), and `GET /api/voice/:id` is polled every
 *    `pollMs` until `ready`. Speed = clip length / (upload start -> ready seen by the client); the
 *    worker-side time is voice_clips.updated_at - created_at (message insert -> ready: queue wait +
 *    ffmpeg + storage + the ready update).
 * 2. Live relay: one speaker socket and `listeners` listener sockets (bare socket.io-client,
 *    websocket), all members of one channel. The speaker (this process) sends `voice:start`, then
 *    `chunks` × `voice:chunk {voiceId, index, data}` of `chunkBytes` every `chunkMs`, then `voice:end`,
 *    recording the send time of each index; the listeners live in one forked child (this file with
 *    `--listener`) and record the arrival time of each (listener, index) of the server's
 *    `voice:chunk`; both clocks are performance.timeOrigin + performance.now() of the same machine.
 *    Latency = arrival - send of that index; losses = expected deliveries - distinct deliveries.
 * 3. Floor hand-over (bench/lib/floor-handover.js): a second API node; two speakers, one per node, take
 *    turns `floorRounds` times in the channel switched to `ptt`: release on node A -> grant seen on node B.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { fork, spawnSync } = require('node:child_process');
const { connectReadySocket } = require('../lib/socket');
const { floorHandover } = require('../lib/floor-handover');

const ORIGIN = performance.timeOrigin;
const now = () => ORIGIN + performance.now();

const DEFAULTS = {
  clipSec: 60,
  transcodeRuns: 3,
  pollMs: 20,
  listeners: 100,
  chunks: 500,
  chunkMs: 40,
  chunkBytes: 4096,
  relayRuns: 1,
  p99LimitMs: 50,
  speedTarget: 100,
  huddleSamples: 1000,
  floorRounds: 200,
  floorP99LimitMs: 50,
};

// ------------------------------------------------------------------ listener child

function listenerMain() {
  const sockets = [];
  let voiceId = null;
  let recv = []; // per listener: Map index -> arrival time
  let duplicates = 0;
  let foreign = 0;
  process.on('message', async (msg) => {
    try {
      if (msg.cmd === 'connect') {
        for (let i = 0; i < msg.tokens.length; i++) {
          const socket = await connectReadySocket(msg.url, msg.tokens[i]);
          const k = i;
          recv.push(new Map());
          socket.on('voice:chunk', (ev) => {
            const t = now();
            if (!ev || ev.voiceId !== voiceId) return void foreign++;
            const m = recv[k];
            if (m.has(ev.index)) duplicates++;
            else m.set(ev.index, t);
          });
          sockets.push(socket);
        }
        process.send({ id: msg.id, ok: true, data: { connected: sockets.length } });
      } else if (msg.cmd === 'expect') {
        voiceId = msg.voiceId;
        recv = recv.map(() => new Map());
        duplicates = 0;
        foreign = 0;
        process.send({ id: msg.id, ok: true, data: {} });
      } else if (msg.cmd === 'collect') {
        const data = recv.map((m) => [...m.entries()]);
        process.send({ id: msg.id, ok: true, data: { recv: data, duplicates, foreign } });
      } else if (msg.cmd === 'close') {
        for (const s of sockets) s.close();
        process.send({ id: msg.id, ok: true, data: {} });
        setTimeout(() => process.exit(0), 100);
      }
    } catch (error) {
      process.send({ id: msg.id, ok: false, error: String((error && error.stack) || error) });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

// ------------------------------------------------------------------ harness side

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
const r1 = (x) => (x === null || x === undefined ? null : Math.round(x * 10) / 10);

function makeClips(dir, clipSec) {
  const ffmpeg = require('@ffmpeg-installer/ffmpeg').path;
  const out = {};
  const variants = {
    ogg: ['-ac', '1', '-c:a', 'libopus', '-b:a', '32k', 'clip.ogg'],
    wav: ['-ac', '1', '-c:a', 'pcm_s16le', 'clip.wav'],
  };
  for (const [name, args] of Object.entries(variants)) {
    const file = path.join(dir, args[args.length - 1]);
    const r = spawnSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=440:duration=${clipSec}`, ...args.slice(0, -1), file], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (r.status !== 0) throw new Error(`ffmpeg ${name} failed: ${r.stderr}`);
    out[name] = { file, bytes: fs.statSync(file).size };
  }
  return { ffmpeg, clips: out };
}

function startWorker(env, track) {
  let output = '';
  const { ROOT } = require('../lib/procs');
  const child = track(
    fork(path.join(ROOT, 'dist', 'worker.js'), [], { cwd: ROOT, env: { ...process.env, WORKER_PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] }),
    'worker',
  );
  const keep = (c) => {
    output += c.toString();
    if (output.length > 100_000) output = output.slice(-50_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker not ready in 60 s:\n${output.slice(-3000)}`)), 60_000);
    child.on('message', (m) => {
      if (m && m.type === 'ready') {
        clearTimeout(timer);
        resolve({ child, output: () => output });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`worker exited (${code ?? signal}):\n${output.slice(-3000)}`));
    });
  });
}

async function transcodeOnce({ url, user, clip, kind, runId, db, pollMs }) {
  const buf = fs.readFileSync(clip.file);
  const form = new FormData();
  form.append('clientMsgId', `bv-${runId}`);
  form.append('file', new Blob([buf], { type: kind === 'ogg' ? 'audio/ogg' : 'audio/wav' }), path.basename(clip.file));
  const t0 = performance.now();
  const res = await fetch(`${url}/api/workspaces/${user.workspaceId}/channels/${user.channelId}/voice`, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.token}` },
    body: form,
    signal: AbortSignal.timeout(60_000),
  });
  const body = await res.json().catch(() => null);
  const acceptedMs = performance.now() - t0;
  if (res.status !== 202 || !body || !body.voice) throw new Error(`upload: HTTP ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  const voiceId = body.voice.id;
  const deadline = Date.now() + 120_000;
  let view;
  for (;;) {
    const r = await fetch(`${url}/api/voice/${voiceId}`, { headers: { authorization: `Bearer ${user.token}` }, signal: AbortSignal.timeout(30_000) });
    view = await r.json();
    if (view.status === 'ready' || view.status === 'failed') break;
    if (Date.now() > deadline) throw new Error(`voice ${voiceId} still ${view.status} after 120 s`);
    await new Promise((r2) => setTimeout(r2, pollMs));
  }
  const totalMs = performance.now() - t0;
  if (view.status !== 'ready') throw new Error(`voice ${voiceId} failed: ${view.failureReason}`);
  const { rows } = await db.query(
    'SELECT extract(epoch FROM (updated_at - created_at)) * 1000 AS ms, duration_ms FROM voice_clips WHERE id = $1',
    [voiceId],
  );
  const workerMs = Number(rows[0].ms);
  // The AAC rendition is made on its first request (by the API, from the Opus one), then kept.
  const aacMs = [];
  for (let i = 0; i < 2; i++) {
    const t1 = performance.now();
    const aac = await fetch(`${url}/api/voice/${voiceId}/audio?format=aac`, { headers: { authorization: `Bearer ${user.token}` }, signal: AbortSignal.timeout(60_000) });
    const bytes = Buffer.from(await aac.arrayBuffer());
    if (aac.status !== 200 || bytes.subarray(4, 8).toString('latin1') !== 'ftyp') throw new Error(`aac: HTTP ${aac.status}`);
    aacMs.push(performance.now() - t1);
  }
  return {
    kind,
    voiceId,
    uploadAcceptedMs: r1(acceptedMs),
    totalMs: r1(totalMs),
    workerMs: r1(workerMs),
    durationMs: rows[0].duration_ms,
    aacFirstMs: r1(aacMs[0]),
    aacAgainMs: r1(aacMs[1]),
  };
}

function callChild(child, cmd, args = {}, timeoutMs = 120_000) {
  callChild.seq = (callChild.seq ?? 0) + 1;
  const id = callChild.seq;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`listener ${cmd} timed out`)), timeoutMs);
    const onMsg = (m) => {
      if (!m || m.id !== id) return;
      clearTimeout(timer);
      child.off('message', onMsg);
      if (m.ok) resolve(m.data);
      else reject(new Error(m.error));
    };
    child.on('message', onMsg);
    child.send({ cmd, id, ...args });
  });
}

async function relayOnce({ speaker, listenerChild, channelId, cfg, payload, runNo, listeners, log }) {
  const { Histogram } = require('../lib/histogram');
  const start = await speaker.timeout(10_000).emitWithAck('voice:start', { channelId, clientMsgId: `bl-${Date.now().toString(36)}-${runNo}`, mimeType: 'audio/ogg;codecs=opus' });
  if (!start || !start.ok) throw new Error(`voice:start refused ${JSON.stringify(start && start.error)}`);
  const voiceId = start.data.voice.id;
  await callChild(listenerChild, 'expect', { voiceId });
  const sentAt = new Array(cfg.chunks);
  const ackHist = new Histogram();
  const chunkErrors = {};
  const acks = [];
  let lagMax = 0;
  const t0 = now() + 50;
  for (let i = 0; i < cfg.chunks; i++) {
    const due = t0 + i * cfg.chunkMs;
    const wait = due - now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const off = (i * cfg.chunkBytes) % Math.max(1, payload.length - cfg.chunkBytes);
    const data = payload.subarray(off, off + cfg.chunkBytes);
    const t = now();
    lagMax = Math.max(lagMax, t - due);
    sentAt[i] = t;
    acks.push(
      speaker
        .timeout(10_000)
        .emitWithAck('voice:chunk', { voiceId, index: i, data })
        .then(
          (a) => {
            if (a && a.ok) ackHist.add(now() - t);
            else chunkErrors[(a && a.error && a.error.code) || 'BAD_ACK'] = (chunkErrors[(a && a.error && a.error.code) || 'BAD_ACK'] ?? 0) + 1;
          },
          () => (chunkErrors.TIMEOUT = (chunkErrors.TIMEOUT ?? 0) + 1),
        ),
    );
  }
  await Promise.all(acks);
  const sendSec = (now() - t0) / 1000;
  const end = await speaker.timeout(30_000).emitWithAck('voice:end', { voiceId, chunks: cfg.chunks, durationMs: cfg.chunks * cfg.chunkMs });
  if (!end || !end.ok) throw new Error(`voice:end refused ${JSON.stringify(end && end.error)}`);
  await new Promise((r) => setTimeout(r, 1000)); // stragglers
  const got = await callChild(listenerChild, 'collect');
  const hist = new Histogram();
  let delivered = 0;
  let outOfOrder = 0;
  for (const entries of got.recv) {
    let prevT = -Infinity;
    const byIndex = entries.sort((a, b) => a[0] - b[0]);
    for (const [index, t] of byIndex) {
      if (index < 0 || index >= cfg.chunks) continue;
      delivered++;
      hist.add(t - sentAt[index]);
      if (t < prevT) outOfOrder++;
      prevT = t;
    }
  }
  const expected = cfg.chunks * listeners;
  const out = {
    voiceId,
    chunks: cfg.chunks,
    listeners,
    expectedDeliveries: expected,
    delivered,
    lost: expected - delivered,
    duplicates: got.duplicates,
    outOfOrderArrivals: outOfOrder,
    chunkErrors,
    relay: hist.summary(),
    chunkAck: ackHist.summary(),
    speakerScheduleLagMaxMs: r1(lagMax),
    sendSec: r1(sendSec),
    endStatus: end.data.voice && end.data.voice.status,
    relayedBytesPerSec: Math.round((delivered * cfg.chunkBytes) / sendSec),
  };
  log(
    `    relay run ${runNo}: ${delivered}/${expected} deliveries, p50 ${out.relay.p50Ms} p99 ${out.relay.p99Ms} max ${out.relay.maxMs} ms; chunk ack p99 ${out.chunkAck.p99Ms} ms; errors ${JSON.stringify(chunkErrors)}; end -> ${out.endStatus}`,
  );
  return out;
}

async function run(cfgIn, { log }) {
  const cfg = { ...DEFAULTS, ...cfgIn };
  const { startPrivateRedis, track, stopChild } = require('../lib/procs');
  const { freshDatabase, startApiNodes, stopAll, BENCH_REDIS_URL, BENCH_DATABASE_URL, BENCH_JWT_SECRET } = require('../lib/pigeon');
  const { connectDb, seedWorkspaces, cpuMs } = require('../lib/seed');
  const { renderTable } = require('../lib/report');

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pigeon-bench-voice-'));
  const voiceDir = path.join(tmp, 'voice');
  fs.mkdirSync(voiceDir);
  const { clips } = makeClips(tmp, cfg.clipSec);
  log(`  clips: ogg/opus 32k ${clips.ogg.bytes} bytes, wav ${clips.wav.bytes} bytes (${cfg.clipSec} s each)`);

  const redis = await startPrivateRedis(BENCH_REDIS_URL);
  await freshDatabase();
  const extraEnv = { VOICE_STORAGE_DIR: voiceDir };
  const nodes = await startApiNodes(1, { redisUrl: redis.url, extraEnv });
  const db = await connectDb();
  let worker = null;
  let listenerChild = null;
  const sockets = [];
  const out = { transcode: [], relay: [], floor: null };
  try {
    const workerEnv = {
      NODE_ENV: 'production',
      DATABASE_URL: BENCH_DATABASE_URL,
      REDIS_URL: redis.url,
      JWT_SECRET: BENCH_JWT_SECRET,
      RUN_MIGRATIONS: 'false',
      LOG_LEVEL: 'warn',
      SEND_RATE_BURST: '1000000',
      SEND_RATE_PER_SECOND: '1000000',
      VOICE_STORAGE_DIR: voiceDir,
      TMPDIR: tmp,
    };
    worker = await startWorker(workerEnv, track);
    log(`  worker ready (pid ${worker.child.pid})`);
    const seed = await seedWorkspaces(db, { workspaces: 1, channelsPerWorkspace: 1, usersPerWorkspace: cfg.listeners + 1, log });
    const [speakerUser, ...listenerUsers] = seed.users;
    const url = nodes[0].url;

    // ---- 1. transcoding
    log(`  transcoding: ${cfg.transcodeRuns} × (ogg, wav) uploads of ${cfg.clipSec} s, one at a time`);
    const runId = Date.now().toString(36);
    await transcodeOnce({ url, user: speakerUser, clip: clips.ogg, kind: 'ogg', runId: `${runId}-warm`, db, pollMs: cfg.pollMs }); // warm-up, not counted
    for (let i = 0; i < cfg.transcodeRuns; i++) {
      for (const kind of ['ogg', 'wav']) {
        const cpu0 = cpuMs(worker.child.pid);
        const r = await transcodeOnce({ url, user: speakerUser, clip: clips[kind], kind, runId: `${runId}-${kind}-${i}`, db, pollMs: cfg.pollMs });
        const cpu1 = cpuMs(worker.child.pid);
        r.workerNodeCpuMs = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null;
        r.speedX = r1((cfg.clipSec * 1000) / r.totalMs);
        r.workerSpeedX = r1((cfg.clipSec * 1000) / r.workerMs);
        out.transcode.push(r);
        log(`    ${kind} #${i + 1}: upload 202 in ${r.uploadAcceptedMs} ms, ready after ${r.totalMs} ms (${r.speedX}× realtime); worker-side ${r.workerMs} ms (${r.workerSpeedX}×); duration ${r.durationMs} ms; AAC first request ${r.aacFirstMs} ms, again ${r.aacAgainMs} ms`);
      }
    }

    // ---- 2. live relay
    log(`  relay: 1 speaker + ${cfg.listeners} listeners (one child process), ${cfg.chunks} chunks × ${cfg.chunkBytes} B every ${cfg.chunkMs} ms`);
    listenerChild = track(fork(__filename, ['--listener'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }), 'listeners');
    const c = await callChild(listenerChild, 'connect', { url, tokens: listenerUsers.map((u) => u.token) });
    log(`    ${c.connected} listeners connected`);
    const speaker = await connectReadySocket(url, speakerUser.token);
    sockets.push(speaker);
    const payload = fs.readFileSync(clips.ogg.file);
    await new Promise((r) => setTimeout(r, 1000));
    for (let i = 0; i < cfg.relayRuns; i++) {
      out.relay.push(await relayOnce({ speaker, listenerChild, channelId: speakerUser.channelId, cfg, payload, runNo: i + 1, listeners: c.connected, log }));
    }

    // ---- 3. huddle signaling round trip (two more API nodes)
    const { huddleRoundTrip } = require('../lib/huddle-signal');
    out.huddle = await huddleRoundTrip({ redisUrl: redis.url, users: [speakerUser, listenerUsers[0]], channelId: speakerUser.channelId, samples: cfg.huddleSamples, warmup: 50, log });
    // ---- 4. floor hand-over, across two nodes
    log(`  floor: ${cfg.floorRounds} hand-overs between two speakers on two API nodes`);
    nodes.push(...(await startApiNodes(1, { redisUrl: redis.url, extraEnv })));
    out.floor = await floorHandover({ db, urls: [nodes[0].url, nodes[1].url], users: listenerUsers.slice(0, 2), channelId: speakerUser.channelId, rounds: cfg.floorRounds, log });
  } finally {
    for (const s of sockets) s.close();
    if (listenerChild) {
      await callChild(listenerChild, 'close', {}, 5000).catch(() => undefined);
      await stopChild(listenerChild, 'SIGTERM', 2000);
    }
    if (worker) await stopChild(worker.child, 'SIGTERM', 10_000);
    await db.end();
    await stopAll(nodes);
    await redis.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  // ---- summary
  const byKind = (kind) => {
    const rs = out.transcode.filter((r) => r.kind === kind);
    return {
      runs: rs.length,
      medianTotalMs: r1(median(rs.map((r) => r.totalMs))),
      medianSpeedX: r1(median(rs.map((r) => r.speedX))),
      medianWorkerMs: r1(median(rs.map((r) => r.workerMs))),
      medianWorkerSpeedX: r1(median(rs.map((r) => r.workerSpeedX))),
      medianUploadAcceptedMs: r1(median(rs.map((r) => r.uploadAcceptedMs))),
      medianAacFirstMs: r1(median(rs.map((r) => r.aacFirstMs))),
      medianAacAgainMs: r1(median(rs.map((r) => r.aacAgainMs))),
      speedXs: rs.map((r) => r.speedX),
    };
  };
  const ogg = byKind('ogg');
  const wav = byKind('wav');
  // Several runs: keep the worst p99, the median p50 and the summed losses.
  const relay = out.relay;
  const lost = relay.reduce((a, r) => a + r.lost, 0);
  const delivered = relay.reduce((a, r) => a + r.delivered, 0);
  const expected = relay.reduce((a, r) => a + r.expectedDeliveries, 0);
  const worstP99 = Math.max(...relay.map((r) => r.relay.p99Ms ?? Infinity));
  const p50 = median(relay.map((r) => r.relay.p50Ms));
  const speedMet = ogg.medianSpeedX >= cfg.speedTarget && wav.medianSpeedX >= cfg.speedTarget;
  const relayMet = worstP99 <= cfg.p99LimitMs && lost === 0;

  const floor = out.floor;
  const floorMet = floor !== null && floor.p99Ms <= cfg.floorP99LimitMs;
  const head = ['measurement', 'runs', 'median', 'detail', 'target', 'met?'];
  const rows = [
    [`transcode ${cfg.clipSec} s Ogg/Opus 32k (${clips.ogg.bytes} B): upload -> ready (client)`, ogg.runs, `${ogg.medianSpeedX}× realtime (${ogg.medianTotalMs} ms)`, `runs ${ogg.speedXs.join(' / ')}×; 202 in ${ogg.medianUploadAcceptedMs} ms`, `>= ${cfg.speedTarget}×`, ogg.medianSpeedX >= cfg.speedTarget ? 'yes' : 'no'],
    [`transcode ${cfg.clipSec} s Ogg/Opus: worker side (updated_at - created_at)`, ogg.runs, `${ogg.medianWorkerSpeedX}× (${ogg.medianWorkerMs} ms)`, 'message insert -> ready update', '-', '-'],
    [`transcode ${cfg.clipSec} s WAV (${clips.wav.bytes} B): upload -> ready (client)`, wav.runs, `${wav.medianSpeedX}× realtime (${wav.medianTotalMs} ms)`, `runs ${wav.speedXs.join(' / ')}×; 202 in ${wav.medianUploadAcceptedMs} ms`, `>= ${cfg.speedTarget}×`, wav.medianSpeedX >= cfg.speedTarget ? 'yes' : 'no'],
    [`transcode ${cfg.clipSec} s WAV: worker side (updated_at - created_at)`, wav.runs, `${wav.medianWorkerSpeedX}× (${wav.medianWorkerMs} ms)`, 'message insert -> ready update', '-', '-'],
    [`AAC rendition of a ready ${cfg.clipSec} s clip: first request (made from the Opus one, then kept)`, ogg.runs + wav.runs, `${r1((cfg.clipSec * 1000) / median(out.transcode.map((r) => r.aacFirstMs)))}× realtime (${r1(median(out.transcode.map((r) => r.aacFirstMs)))} ms)`, `ogg ${ogg.medianAacFirstMs} ms, wav ${wav.medianAacFirstMs} ms; a later request ${r1(median(out.transcode.map((r) => r.aacAgainMs)))} ms`, '-', '-'],
    ...relay.map((r, i) => [
      `live relay speaker -> ${r.listeners} listeners, run ${i + 1}`,
      `${r.chunks} chunks`,
      `p50 ${r.relay.p50Ms} / p99 ${r.relay.p99Ms} ms`,
      `p90 ${r.relay.p90Ms}, p99.9 ${r.relay.p999Ms}, max ${r.relay.maxMs} ms; ${r.delivered}/${r.expectedDeliveries} delivered (lost ${r.lost}, dup ${r.duplicates}); chunk ack p50/p99 ${r.chunkAck.p50Ms}/${r.chunkAck.p99Ms} ms; chunk errors ${Object.keys(r.chunkErrors).length ? JSON.stringify(r.chunkErrors) : 0}`,
      `p99 <= ${cfg.p99LimitMs} ms, 0 lost`,
      r.relay.p99Ms <= cfg.p99LimitMs && r.lost === 0 ? 'yes' : 'no',
    ]),
    ...(out.huddle
      ? [[
          'huddle:signal round trip A (node 0) -> B (node 1) -> A',
          `${out.huddle.samples} round trips`,
          `p50 ${out.huddle.p50Ms} / p99 ${out.huddle.p99Ms} ms`,
          `p90 ${out.huddle.p90Ms}, max ${out.huddle.maxMs} ms; two relays per sample, one in flight`,
          '-',
          '-',
        ]]
      : []),
    [
      'floor hand-over: floor:release on node A -> `floor` naming the next holder at its socket on node B',
      `${floor.rounds} rounds`,
      `p50 ${floor.p50Ms} / p99 ${floor.p99Ms} ms`,
      `p90 ${floor.p90Ms}, max ${floor.maxMs} ms`,
      `p99 <= ${cfg.floorP99LimitMs} ms`,
      floorMet ? 'yes' : 'no',
    ],
  ];
  const transcodeTable = renderTable(
    ['run', 'kind', 'upload 202 ms', 'upload -> ready ms', '× realtime', 'worker-side ms', 'worker × realtime', 'worker process CPU ms (node, excl. ffmpeg)', 'duration_ms'],
    out.transcode.map((r, i) => [i + 1, r.kind, r.uploadAcceptedMs, r.totalMs, r.speedX, r.workerMs, r.workerSpeedX, r.workerNodeCpuMs, r.durationMs]),
  ).md;
  return {
    scenario: 'voice',
    metric: `transcoding speed (${cfg.clipSec} s clip / upload-to-ready time, median) and live relay latency (speaker send -> listener receive of each voice:chunk, p50/p99 over all deliveries)`,
    config: cfg,
    summary: {
      transcode: { ogg, wav },
      relay: { p50Ms: p50, worstP99Ms: worstP99, delivered, expected, lost, runs: relay.map((r) => ({ relay: r.relay, chunkAck: r.chunkAck, lost: r.lost, duplicates: r.duplicates, chunkErrors: r.chunkErrors, speakerScheduleLagMaxMs: r.speakerScheduleLagMaxMs, relayedBytesPerSec: r.relayedBytesPerSec, endStatus: r.endStatus })) },
      huddle: out.huddle ?? null,
      floor,
      meetsTarget: { transcode: speedMet, relay: relayMet, floor: floorMet },
    },
    results: {},
    doc: {
      what: [
        `What (transcoding): one API process and the voice worker (\`dist/worker.js\`, BullMQ, one job at a time, ffmpeg from \`@ffmpeg-installer/ffmpeg\`), both with \`VOICE_STORAGE_DIR\` in one temp dir, a fresh \`pigeon_bench\` and a private Redis. A ${cfg.clipSec} s 440 Hz sine is made with the bundled ffmpeg as Ogg/Opus 32 kb/s mono and as WAV (s16le mono 44.1 kHz); each is uploaded ${cfg.transcodeRuns} times, one upload at a time (plus one Ogg warm-up, not counted), with \`POST /api/workspaces/:wid/channels/:cid/voice\` (multipart, 202), and \`GET /api/voice/:id\` is polled every ${cfg.pollMs} ms until \`ready\`. Speed = ${cfg.clipSec} s / (upload start -> \`ready\` seen); worker side = \`voice_clips.updated_at - created_at\` (message insert -> ready update: queue pick-up, one ffmpeg run writing Opus with its loudness measured + 8 kHz PCM for the waveform, storage, DB update). After \`ready\`, \`GET /api/voice/:id/audio?format=aac\` twice: the first makes the AAC rendition from the Opus one, the second serves it.`,
        `What (live relay): 1 speaker socket (the harness process) and ${cfg.listeners} listener sockets (one forked child), bare socket.io-client, websocket transport, all members of one channel (seeded by SQL, tokens minted). The speaker sends \`voice:start\` (audio/ogg;codecs=opus), then ${cfg.chunks} \`voice:chunk\` of ${cfg.chunkBytes} B (slices of the Ogg clip; the relay does not decode) every ${cfg.chunkMs} ms open-loop (${r1((cfg.chunks * cfg.chunkMs) / 1000)} s, ${Math.round((cfg.chunkBytes * 8) / cfg.chunkMs)} kb/s — about ${Math.round((cfg.chunkBytes * 8) / cfg.chunkMs / 32)}× a real 32 kb/s Opus stream, so a stress case), then \`voice:end\`. Latency = listener arrival of server \`voice:chunk\` (index) - speaker send time of that index, both on performance.timeOrigin + performance.now() of this machine. Lost = ${cfg.listeners} × ${cfg.chunks} - distinct (listener, index) arrivals 1 s after \`voice:end\`'s ack.`,
        `What (huddle signaling): two more API processes on the same database and Redis; participant A on node 0 and B on node 1 join one channel's huddle; A sends \`huddle:signal\` (an ICE candidate carrying a sequence number) to B, B signals it straight back, A times send -> echo received: two relays across the Redis adapter, each with the membership and participant checks. ${cfg.huddleSamples} samples after 50 warm-up, one in flight, signal rate limit raised.`,
        `What (floor hand-over): a second API node joins; two seeded members, one socket on each node, in the same channel switched to \`ptt\` (SQL, then 1.5 s for the nodes' mode cache). Each of ${cfg.floorRounds} rounds: A \`floor:request\` (granted), B \`floor:request\` (queued, position 1), then the clock starts just before A sends \`floor:release\` and stops when B's socket receives the \`floor\` event naming B (release + grant in one Redis script on node A, fan-out through the Redis adapter to node B); B then releases and the idle event is awaited before the next round.`,
        'Rate limits raised (SEND_RATE_*); the per-user send limit applies to `voice:start` only. No baseline: a bare Socket.IO server neither transcodes nor stores/relays recordings.',
      ],
      target: `transcoding >= ${cfg.speedTarget}× realtime (median); live relay p99 <= ${cfg.p99LimitMs} ms speaker -> ${cfg.listeners} listeners, 0 lost; floor hand-over p99 <= ${cfg.floorP99LimitMs} ms.`,
      head,
      rows,
      extraMd: `Transcoding runs:\n\n${transcodeTable}\n`,
      raw: { transcodeRuns: out.transcode, relayRuns: out.relay, floor: out.floor },
      summaryLines: [
        `voice: transcode median ${ogg.medianSpeedX}× (ogg) / ${wav.medianSpeedX}× (wav) realtime upload->ready, worker side ${ogg.medianWorkerSpeedX}× / ${wav.medianWorkerSpeedX}×; target >= ${cfg.speedTarget}×.`,
        `voice: live relay 1 -> ${cfg.listeners}: p50 ${p50} ms, p99 ${worstP99} ms, lost ${lost}/${expected}; target p99 <= ${cfg.p99LimitMs} ms.`,
        ...(out.huddle ? [`voice: huddle signal round trip across two nodes: p50 ${out.huddle.p50Ms} ms, p99 ${out.huddle.p99Ms} ms (${out.huddle.samples} samples).`] : []),
        `voice: floor hand-over (release -> next holder's grant, across nodes): p50 ${floor.p50Ms} ms, p99 ${floor.p99Ms} ms over ${floor.rounds} rounds.`,
      ],
    },
  };
}

module.exports = { run, DEFAULTS };

if (require.main === module && process.argv.includes('--listener')) listenerMain();
