'use strict';
/**
 * Chaos scenario `outbox`: every side effect of a committed change happens, once, through API
 * crashes and a Redis pause. Two API nodes and the worker; REST senders with retries (same
 * clientMsgId) into private channels; a webhook on message.created to a loopback receiver; in each
 * channel one member who never connects, with a push subscription at a loopback push service and
 * level `all`; voice uploads among the sends. Faults: `kill -9` of an API node right after one of
 * its sends was answered 201 (the commit is in, its relay has just been woken), restarted at once,
 * again and again (`--kills`, every `--kill-every` ms), and Redis SIGSTOP for `--pause-ms` in the
 * middle. Pass: every acked message stored; every message.created delivered to the webhook exactly
 * once; every non-system message pushed to its channel's subscriber exactly once; every voice
 * `ready` or `failed` with one final event; outbox empty; no delivery pending.
 */
const { execFile, fork } = require('node:child_process');
const { createDecipheriv, createECDH, hkdfSync, randomBytes, randomUUID } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const lib = require('./lib');
const { startCluster, populate } = require('./cluster');

const { sleep, log } = lib;

/** Starts bench/chaos/outbox-receiver.js; answers its origin and a dump of what it received. */
async function receivers() {
  const child = fork(path.join(__dirname, 'outbox-receiver.js'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  lib.onCleanup(() => child.exitCode === null && child.kill('SIGKILL'));
  const { port } = await new Promise((resolve) => child.once('message', resolve));
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    dump: async () => (await fetch(`${origin}/__dump`)).json(),
    close: () => child.kill('SIGTERM'),
  };
}

/** What a browser holds for one subscription (RFC 8291): its ECDH pair and auth secret. */
function browserKeys() {
  const ecdh = createECDH('prime256v1');
  const publicKey = ecdh.generateKeys();
  const auth = randomBytes(16);
  return { ecdh, publicKey, auth, json: { p256dh: publicKey.toString('base64url'), auth: auth.toString('base64url') } };
}

/** RFC 8188/8291 decryption of a one-record aes128gcm push body: the JSON payload. */
function decryptPush(body, keys) {
  const salt = body.subarray(0, 16);
  const keyIdLength = body[20];
  const serverPublic = body.subarray(21, 21 + keyIdLength);
  const record = body.subarray(21 + keyIdLength);
  const shared = keys.ecdh.computeSecret(serverPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), keys.publicKey, serverPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', shared, keys.auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  return JSON.parse(padded.subarray(0, end).toString('utf8'));
}

const countOf = (map, key) => map.get(key) || 0;
const bump = (map, key) => map.set(key, countOf(map, key) + 1);

async function outboxScenario({ num, args, record }) {
  const channelCount = num('channels', 6);
  const groupSize = num('group', 4); // three senders and the push subscriber
  const rate = num('rate', 30);
  const kills = num('kills', 6);
  const killEvery = num('kill-every', 3000);
  const pauseMs = num('pause-ms', 5000);
  const voices = num('voices', 24);
  const webPush = require(path.join(lib.ROOT, 'node_modules', 'web-push'));
  const vapid = webPush.generateVAPIDKeys();
  let voiceDir;
  const cluster = await startCluster({
    nodes: 2,
    worker: true,
    env: (dir) => {
      voiceDir = path.join(dir, 'voice');
      const workTmp = path.join(dir, 'tmp');
      for (const d of [voiceDir, workTmp]) fs.mkdirSync(d, { recursive: true });
      return {
        VOICE_STORAGE_DIR: voiceDir,
        TMPDIR: workTmp,
        ALLOW_PRIVATE_TARGETS: 'true',
        VAPID_PUBLIC_KEY: vapid.publicKey,
        VAPID_PRIVATE_KEY: vapid.privateKey,
        WEBHOOK_BACKOFF_BASE_MS: '200',
        PUSH_BACKOFF_BASE_MS: '200',
        // Short lease and sweep so a killed node's rows come back within the run.
        OUTBOX_LEASE_MS: String(num('lease-ms', 3000)),
        OUTBOX_POLL_MS: '200',
        OUTBOX_SWEEP_MS: '2000',
        OUTBOX_STUCK_AFTER_MS: '15000',
      };
    },
  });
  const { apis, db, redis } = cluster;
  const { Client } = require('pg');
  const sampleDb = new Client({ connectionString: cluster.pg.url() });
  await sampleDb.connect();
  sampleDb.on('error', () => undefined);
  lib.onCleanup(() => sampleDb.end().catch(() => undefined));
  const pop = await populate(apis.map((n) => n.url), { users: channelCount * groupSize, groupSize });

  // Receivers (their own process); counted at the end.
  const subscribers = new Map(); // path -> {user, keys}
  const receiver = await receivers();
  const hookHits = new Map(); // delivery id -> requests
  const pushHits = new Map(); // `${subscriberId}:${messageId}` -> requests
  const pushErrors = [];
  const collect = async () => {
    const { hooks, pushes } = await receiver.dump();
    hookHits.clear();
    pushHits.clear();
    pushErrors.length = 0;
    for (const [id, n] of Object.entries(hooks)) hookHits.set(id, n);
    for (const p of pushes) {
      const sub = subscribers.get(p.path);
      try {
        bump(pushHits, `${sub.user.id}:${decryptPush(Buffer.from(p.body, 'base64'), sub.keys).messageId}`);
      } catch (error) {
        pushErrors.push(String(error).slice(0, 200));
      }
    }
  };
  const hook = { origin: receiver.origin };
  const push = { origin: receiver.origin };

  const owner = pop.owner;
  await lib.must(lib.http(apis[0].url, 'POST', `/api/workspaces/${pop.workspaceId}/webhooks`, { url: `${hook.origin}/hook`, events: ['message.created'] }, owner.accessToken), 201, 'webhook');
  const senders = [];
  for (let g = 0; g < channelCount; g++) {
    const members = pop.users.slice(g * groupSize, (g + 1) * groupSize);
    const sub = members[members.length - 1];
    const keys = browserKeys();
    const subPath = `/push/${sub.id}`;
    subscribers.set(subPath, { user: sub, keys });
    await lib.must(lib.http(apis[0].url, 'POST', '/api/me/push-subscriptions', { endpoint: push.origin + subPath, keys: keys.json, expirationTime: null }, sub.accessToken), 201, 'push subscription');
    await lib.must(lib.http(apis[0].url, 'PUT', `/api/workspaces/${pop.workspaceId}/channels/${sub.channelId}/notifications`, { level: 'all' }, sub.accessToken), 200, 'level');
    senders.push(...members.slice(0, -1));
  }
  log(`${channelCount} channels, ${senders.length} senders, ${subscribers.size} offline push subscribers, webhook at ${hook.origin}`);

  // One short clip for every voice upload.
  const ffmpeg = require(path.join(lib.ROOT, 'node_modules', '@ffmpeg-installer', 'ffmpeg')).path;
  const clipFile = path.join(cluster.dir, 'clip.wav');
  await new Promise((resolve, reject) => execFile(ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-ac', '1', '-ar', '16000', clipFile], (e) => (e ? reject(e) : resolve())));
  const clip = fs.readFileSync(clipFile);

  // Load: REST sends through the nodes that are up, each retried with its clientMsgId until answered.
  let nextNode = 0;
  const liveNode = () => {
    for (let i = 0; i < apis.length; i++) {
      const n = apis[(nextNode++ + i) % apis.length];
      if (n.alive) return n;
    }
    return null;
  };
  const acked = []; // {clientMsgId, id, kind, attempts}
  const answeredBy = []; // {node, t} of each 201/202, for "right after a commit"
  const attemptsFailed = {};
  let inFlight = 0;
  const op = async (kind, user) => {
    const clientMsgId = randomUUID();
    inFlight++;
    try {
      await attemptAll(kind, user, clientMsgId);
    } finally {
      inFlight--;
    }
  };
  const attemptAll = async (kind, user, clientMsgId) => {
    const deadline = Date.now() + 60_000;
    for (let attempt = 1; Date.now() < deadline; attempt++) {
      const node = liveNode();
      if (!node) {
        await sleep(100);
        continue;
      }
      try {
        const url = `${node.url}/api/workspaces/${pop.workspaceId}/channels/${user.channelId}/${kind === 'voice' ? 'voice' : 'messages'}`;
        let response;
        if (kind === 'voice') {
          const form = new FormData();
          form.append('clientMsgId', clientMsgId);
          form.append('file', new Blob([new Uint8Array(clip)]), 'clip.wav');
          response = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${user.accessToken}` }, body: form, signal: AbortSignal.timeout(20_000) });
        } else {
          response = await fetch(url, {
            method: 'POST',
            headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json' },
            body: JSON.stringify({ clientMsgId, body: `outbox chaos ${clientMsgId}` }),
            signal: AbortSignal.timeout(20_000),
          });
        }
        const body = await response.json().catch(() => undefined);
        // 201/202: created; 200: a retry that found what an earlier attempt committed.
        if (response.status === 200 || response.status === 201 || response.status === 202) {
          answeredBy.push({ node, t: Date.now() });
          acked.push({ clientMsgId, id: body.id, kind, voiceId: body.voice && body.voice.id, attempts: attempt });
          return;
        }
        attemptsFailed[response.status] = (attemptsFailed[response.status] || 0) + 1;
      } catch (error) {
        const code = (error && error.cause && error.cause.code) || (error && error.name) || 'error';
        attemptsFailed[code] = (attemptsFailed[code] || 0) + 1;
      }
      await sleep(Math.min(1000, 50 * attempt));
    }
    acked.push({ clientMsgId, kind, unanswered: true });
  };

  const start = Date.now();
  const seconds = (kills * killEvery + 2 * pauseMs) / 1000 + 6;
  let stopLoad = false;
  const ops = [];
  const load = (async () => {
    // Voices spread over the planned duration, whatever pace the texts get.
    let voicesSent = 0;
    for (let i = 0; !stopLoad; i++) {
      // Open-loop at `rate`, but never more than 48 at once: a slowed cluster is not buried under retries.
      while (inFlight >= 48 && !stopLoad) await sleep(20);
      const user = senders[i % senders.length];
      const kind = voicesSent < Math.min(voices, Math.ceil((voices * (Date.now() - start)) / (seconds * 1000))) ? 'voice' : 'text';
      if (kind === 'voice') voicesSent++;
      ops.push(op(kind, user));
      await lib.sleep(Math.max(0, start + ((i + 1) * 1000) / rate - Date.now()));
    }
  })();

  // Backlog sampler: how big the outbox got and how often rows were retried.
  const samples = [];
  let sampling = false;
  const sampler = setInterval(() => {
    if (sampling) return;
    sampling = true;
    sampleDb.query('SELECT count(*)::int AS n, COALESCE(max(attempts), 0)::int AS attempts, count(*) FILTER (WHERE last_error IS NOT NULL)::int AS failed FROM outbox')
      .then((r) => samples.push({ t: Date.now() - start, ...r.rows[0] }))
      .catch(() => undefined)
      .finally(() => (sampling = false));
  }, 250);

  // Faults: kill -9 right after a 201/202 of the victim, restart at once; Redis paused in the middle.
  const killLog = [];
  let pause = null;
  await sleep(2000);
  for (let k = 0; k < kills; k++) {
    if (k === Math.floor(kills / 2)) {
      const t = Date.now();
      redis.stop();
      log(`redis SIGSTOP for ${pauseMs} ms`);
      await sleep(pauseMs);
      redis.cont();
      pause = { atS: +((t - start) / 1000).toFixed(1), ms: Date.now() - t };
      log('redis SIGCONT');
      await sleep(pauseMs);
    }
    const victim = apis[k % apis.length];
    const since = Date.now();
    while (!answeredBy.some((a) => a.node === victim && a.t >= since) && Date.now() - since < 10_000) await sleep(1);
    const t = Date.now();
    await victim.kill('SIGKILL');
    // What the outbox holds the moment the node is gone (its own rows among them, claimed or not).
    const atKill = (await db.query('SELECT count(*)::int AS n, count(*) FILTER (WHERE attempts > 0)::int AS claimed FROM outbox')).rows[0];
    const tRestart = Date.now();
    await victim.startWithRetry();
    killLog.push({ node: victim.name, atS: +((t - start) / 1000).toFixed(1), outboxRowsAtKill: atKill.n, claimedAtKill: atKill.claimed, restartMs: Date.now() - tRestart });
    log(`kill -9 ${victim.name} right after a commit; back in ${Date.now() - t} ms`);
    await sleep(Math.max(0, killEvery - (Date.now() - t)));
  }
  stopLoad = true;
  await load;
  await Promise.all(ops);
  log(`load stopped: ${acked.filter((a) => !a.unanswered).length} answered, ${acked.filter((a) => a.unanswered).length} never answered`);

  // Drain: outbox empty, no delivery pending, no voice processing, every expected push in.
  const channels = pop.channels;
  // The messages of this load (the channels' earlier system messages predate the webhook).
  const expected = async () =>
    (await db.query(
      `SELECT channel_id, data->>'id' AS id, data->>'kind' AS kind FROM channel_events
        WHERE channel_id = ANY($1::uuid[]) AND type = 'message.created' AND data->>'clientMsgId' = ANY($2::text[])`,
      [channels, acked.map((a) => a.clientMsgId)],
    )).rows;
  const state = async () => {
    const outbox = await db.query('SELECT count(*)::int AS n FROM outbox');
    const pending = await db.query("SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'pending'");
    const processing = await db.query("SELECT count(*)::int AS n FROM voice_clips WHERE status IN ('processing', 'recording')");
    return { outbox: outbox.rows[0].n, pending: pending.rows[0].n, processing: processing.rows[0].n };
  };
  const subscriberOf = new Map([...subscribers.values()].map((s) => [s.user.channelId, s.user.id]));
  const pushesMissing = (created) => created.filter((m) => m.kind !== 'system' && !pushHits.has(`${subscriberOf.get(m.channel_id)}:${m.id}`)).length;
  const tStop = Date.now();
  let last;
  for (;;) {
    const created = await expected();
    await collect();
    last = { ...(await state()), pushesMissing: pushesMissing(created), deliveriesReceived: hookHits.size, created: created.length };
    if (last.outbox === 0 && last.pending === 0 && last.processing === 0 && last.pushesMissing === 0 && last.deliveriesReceived >= created.length) break;
    if (Date.now() - tStop > num('drain-seconds', 90) * 1000) break;
    await sleep(500);
  }
  const drainMs = Date.now() - tStop;
  await sleep(2000); // anything late and repeated would show up now
  clearInterval(sampler);
  await sampleDb.end().catch(() => undefined);

  // Reconcile.
  const created = await expected();
  await collect();
  const answered = acked.filter((a) => !a.unanswered);
  const storedIds = new Set((await db.query('SELECT client_msg_id FROM messages WHERE channel_id = ANY($1::uuid[])', [channels])).rows.map((r) => r.client_msg_id));
  const deliveries = (await db.query(
    `SELECT d.id, d.status, d.payload->'data'->>'id' AS message_id FROM webhook_deliveries d WHERE d.workspace_id = $1`,
    [pop.workspaceId],
  )).rows;
  const deliveryOf = new Map(deliveries.map((d) => [d.message_id, d]));
  const notDelivered = created.filter((m) => !deliveryOf.get(m.id) || deliveryOf.get(m.id).status !== 'delivered' || !hookHits.has(deliveryOf.get(m.id).id));
  const deliveredTwice = [...hookHits.values()].filter((n) => n > 1).length;
  const pushable = created.filter((m) => m.kind !== 'system');
  const pushedTwice = [...pushHits.values()].filter((n) => n > 1).length;
  const voiceIds = answered.filter((a) => a.kind === 'voice').map((a) => a.voiceId);
  const clips = (await db.query('SELECT id::text, status, failure_reason FROM voice_clips WHERE id = ANY($1::uuid[])', [voiceIds])).rows;
  const finalEvents = (await db.query(
    `SELECT data->'voice'->>'id' AS voice_id, count(*)::int AS n FROM channel_events
      WHERE channel_id = ANY($1::uuid[]) AND type = 'message.updated' AND data->'voice'->>'status' IN ('ready', 'failed') GROUP BY 1`,
    [channels],
  )).rows;
  const finalCount = new Map(finalEvents.map((r) => [r.voice_id, r.n]));
  const clipStatus = {};
  clips.forEach((c) => (clipStatus[c.status] = (clipStatus[c.status] || 0) + 1));
  const end = await state();

  const report = {
    config: { nodes: 2, worker: true, channels: channelCount, groupSize, rate, kills, killEveryMs: killEvery, pauseMs, voices, leaseMs: num('lease-ms', 3000) },
    durationS: +((tStop - start) / 1000).toFixed(1),
    opsAnswered: answered.length,
    opsNeverAnswered: acked.length - answered.length,
    opsNeverAnsweredButStored: acked.filter((a) => a.unanswered && storedIds.has(a.clientMsgId)).length,
    failedAttemptsByCode: attemptsFailed,
    ackedLost: answered.filter((a) => !storedIds.has(a.clientMsgId)).length,
    messagesCreated: created.length,
    webhook: {
      expected: created.length,
      deliveryRows: deliveries.length,
      receivedDistinct: hookHits.size,
      notDelivered: notDelivered.length,
      deliveredTwice,
      deliveredTwiceDetail: [...hookHits].filter(([, n]) => n > 1).slice(0, 5),
      requestsTotal: [...hookHits.values()].reduce((a, n) => a + n, 0),
    },
    push: {
      expected: pushable.length,
      receivedDistinct: pushHits.size,
      missing: pushesMissing(created),
      pushedTwice,
      pushedTwiceDetail: [...pushHits].filter(([, n]) => n > 1).slice(0, 5),
      undecryptable: pushErrors.length,
    },
    voice: {
      uploaded: voiceIds.length,
      clipStatus,
      notSettled: clips.filter((c) => c.status !== 'ready' && c.status !== 'failed').map((c) => c.id),
      failedReasons: clips.filter((c) => c.status === 'failed').map((c) => c.failure_reason).slice(0, 5),
      withoutFinalEvent: voiceIds.filter((id) => !finalCount.get(id)).length,
      withTwoFinalEvents: voiceIds.filter((id) => (finalCount.get(id) || 0) > 1).length,
    },
    kills: killLog,
    redisPause: pause,
    outboxBacklog: {
      max: Math.max(0, ...samples.map((s) => s.n)),
      maxAttempts: Math.max(0, ...samples.map((s) => s.attempts)),
      maxRowsWithError: Math.max(0, ...samples.map((s) => s.failed)),
    },
    drainMsAfterLoad: drainMs,
    endState: end,
    lastDrainCheck: last,
    unexpectedProcessExits: lib.unexpectedExits.map((e) => ({ ...e, lastOutput: e.lastOutput.slice(-300) })),
  };
  report.scenarioChecks = {
    // An op never answered (its retries ran out on a slowed cluster) may or may not be stored;
    // either way the checks below hold for whatever was committed.
    noAckedLost: report.ackedLost === 0,
    everyWebhookDeliveredOnce: report.webhook.notDelivered === 0 && deliveredTwice === 0 && hookHits.size === created.length,
    everyPushSentOnce: report.push.missing === 0 && pushedTwice === 0 && pushHits.size === pushable.length && pushErrors.length === 0,
    everyVoiceSettledOnce: report.voice.notSettled.length === 0 && clips.length === voiceIds.length && report.voice.withoutFinalEvent === 0 && report.voice.withTwoFinalEvents === 0,
    outboxDrained: end.outbox === 0 && end.pending === 0 && end.processing === 0,
    killedAsPlanned: killLog.length === kills,
    noUnexpectedExits: report.unexpectedProcessExits.length === 0,
  };
  report.pass = Object.values(report.scenarioChecks).every(Boolean);
  receiver.close();
  void args;
  return record('outbox', cluster, report);
}

module.exports = { outboxScenario };
