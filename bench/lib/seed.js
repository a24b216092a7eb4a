'use strict';
/**
 * Direct-SQL setup for the large scenarios (throughput, history, storm, connections), into the
 * bench database only (pigeon_bench, loopback). Registering thousands of users over REST costs one
 * argon2 hash each (~50 ms of a core), so users, workspaces, channels and memberships are inserted
 * with SQL instead, all users sharing ONE precomputed argon2id hash (same parameters as
 * src/auth/password.service.ts, so a REST login with BENCH_PASSWORD still works).
 *
 * Access tokens are minted here, not by the API: the harness starts the API and sets its
 * JWT_SECRET (bench/lib/pigeon.js), and the API verifies HS256 JWTs with claims {sub, typ:'access'}
 * (src/auth/token.service.ts), so an HMAC-SHA256 over the same header/claims with the same secret
 * is exactly what the API would have issued (see mintAccessToken).
 */
const { createHmac, randomUUID } = require('node:crypto');
const { Client } = require('pg');
const { BENCH_DATABASE_URL, BENCH_JWT_SECRET, assertLoopback } = require('./pigeon');

const BENCH_PASSWORD = 'bench-password-0123456789';

const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** An access token the API accepts: HS256 over {sub, typ:'access', iat, exp}, signed with the API's JWT_SECRET. */
function mintAccessToken(userId, { secret = BENCH_JWT_SECRET, ttlSec = 86_400 } = {}) {
  const iat = Math.floor(Date.now() / 1000);
  const head = b64url({ alg: 'HS256', typ: 'JWT' });
  const body = b64url({ sub: userId, typ: 'access', iat, exp: iat + ttlSec });
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

async function connectDb(url = BENCH_DATABASE_URL) {
  assertLoopback(url);
  const client = new Client({ connectionString: url });
  await client.connect();
  return client;
}

let sharedHash = null;
async function passwordHash() {
  if (!sharedHash) {
    const { hash } = require('@node-rs/argon2');
    sharedHash = await hash(BENCH_PASSWORD, { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 });
  }
  return sharedHash;
}

/**
 * `workspaces` workspaces, each with `channelsPerWorkspace` public channels and
 * `usersPerWorkspace` users; user k of a workspace is a member of channel (k % channelsPerWorkspace).
 * The first user of each workspace owns it. Returns {workspaces:[{id, channels:[id]}], users:[{id,
 * workspaceId, channelId, token}]} in a stable order (workspace by workspace).
 */
async function seedWorkspaces(db, { workspaces = 1, channelsPerWorkspace = 1, usersPerWorkspace, log = () => undefined, tokenTtlSec = 86_400 }) {
  const started = Date.now();
  const hashValue = await passwordHash();
  const run = Date.now().toString(36);
  const out = { workspaces: [], users: [] };
  for (let w = 0; w < workspaces; w++) {
    const userIds = Array.from({ length: usersPerWorkspace }, () => randomUUID());
    const workspaceId = randomUUID();
    const channelIds = Array.from({ length: channelsPerWorkspace }, () => randomUUID());
    await db.query('BEGIN');
    await db.query(
      `INSERT INTO users (id, email, password_hash, display_name)
       SELECT id, 'bench-' || $2 || '-' || $3 || '-' || n || '@example.com', $4, 'bench ' || n
         FROM unnest($1::uuid[]) WITH ORDINALITY AS u(id, n)`,
      [userIds, run, w, hashValue],
    );
    await db.query('INSERT INTO workspaces (id, name, slug, created_by) VALUES ($1, $2, $3, $4)', [
      workspaceId,
      `Bench ${w}`,
      `bench-${run}-${w}`.slice(0, 40),
      userIds[0],
    ]);
    await db.query(
      `INSERT INTO workspace_members (workspace_id, user_id, role)
       SELECT $1, id, CASE WHEN n = 1 THEN 'owner' ELSE 'member' END FROM unnest($2::uuid[]) WITH ORDINALITY AS u(id, n)`,
      [workspaceId, userIds],
    );
    await db.query(
      `INSERT INTO channels (id, workspace_id, name, kind, created_by)
       SELECT id, $2, 'bench-' || n, 'public', $3 FROM unnest($1::uuid[]) WITH ORDINALITY AS u(id, n)`,
      [channelIds, workspaceId, userIds[0]],
    );
    const memberChannel = userIds.map((_, k) => channelIds[k % channelsPerWorkspace]);
    await db.query(
      `INSERT INTO channel_members (channel_id, user_id, workspace_id)
       SELECT c, u, $3 FROM unnest($1::uuid[], $2::uuid[]) AS x(c, u)`,
      [memberChannel, userIds, workspaceId],
    );
    await db.query('COMMIT');
    out.workspaces.push({ id: workspaceId, channels: channelIds });
    userIds.forEach((id, k) =>
      out.users.push({ id, workspaceId, channelId: memberChannel[k], token: mintAccessToken(id, { ttlSec: tokenTtlSec }) }),
    );
  }
  log(`  seeded by SQL: ${workspaces} workspace(s), ${workspaces * channelsPerWorkspace} channel(s), ${out.users.length} users (tokens minted with JWT_SECRET) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return out;
}

/**
 * Appends `perChannel` text messages (and their message.created events, same jsonb shape as the
 * API's hot path) to each channel, advancing head_seq, in one transaction. Returns {heads, before}: {channelId: seq} after and before.
 */
async function appendMessages(db, channelIds, { perChannel, authorOf, bodyPrefix = 'offline' }) {
  const heads = {};
  const before = {};
  await db.query('BEGIN');
  for (const channelId of channelIds) {
    const [{ workspace_id: workspaceId, head_seq: head }] = (
      await db.query('SELECT workspace_id, head_seq FROM channels WHERE id = $1 FOR UPDATE', [channelId])
    ).rows;
    await insertRange(db, { channelId, workspaceId, authorId: authorOf(channelId), from: Number(head) + 1, to: Number(head) + perChannel, bodyPrefix });
    heads[channelId] = Number(head) + perChannel;
    before[channelId] = Number(head);
  }
  await db.query('COMMIT');
  return { heads, before };
}

/** messages + channel_events for seqs from..to (inclusive) of one channel, and head_seq = to. */
async function insertRange(db, { channelId, workspaceId, authorId, from, to, bodyPrefix }) {
  await db.query(
    `INSERT INTO messages (workspace_id, channel_id, seq, author_id, client_msg_id, kind, body, created_at)
     SELECT $1, $2, s, $3, $6 || '-' || s, 'text', $6 || ' message ' || s || ' ' || repeat('x', 40),
            now() - make_interval(secs => ($5 - s))
       FROM generate_series($4::bigint, $5::bigint) AS s`,
    [workspaceId, channelId, authorId, from, to, bodyPrefix],
  );
  await db.query(
    `INSERT INTO channel_events (channel_id, seq, workspace_id, type, data, at)
     SELECT m.channel_id, m.seq, m.workspace_id, 'message.created', jsonb_build_object(
              'id', m.id, 'workspaceId', m.workspace_id, 'channelId', m.channel_id, 'topicId', m.topic_id,
              'seq', m.seq, 'authorId', m.author_id, 'clientMsgId', m.client_msg_id, 'kind', m.kind,
              'body', m.body, 'replyToId', m.reply_to_id,
              'createdAt', to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
              'editedAt', NULL, 'deletedAt', NULL, 'reactions', '[]'::jsonb, 'voice', NULL), m.created_at
       FROM messages m WHERE m.channel_id = $1 AND m.seq BETWEEN $2 AND $3`,
    [channelId, from, to],
  );
  await db.query('UPDATE channels SET head_seq = $2 WHERE id = $1', [channelId, to]);
}

/** The bench database's name (BENCH_DATABASE_URL's path), so an A/B run with its own database is sampled, not pigeon_bench. */
const BENCH_DATABASE = new URL(process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pigeon_bench').pathname.slice(1);

/** Committed + rolled-back transactions of one database so far (pg_stat_database; flushed by backends about once a second). */
async function transactions(db, database = BENCH_DATABASE) {
  const { rows } = await db.query('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1', [database]);
  return Number(rows[0]?.n ?? 0);
}

/** Samples transactions/s of the bench database every `everyMs` until stop(); returns {peak, samples}. */
function sampleTransactions(db, { everyMs = 1000, database = BENCH_DATABASE } = {}) {
  const samples = [];
  let last = null;
  let lastAt = 0;
  let stopped = false;
  const started = Date.now();
  const loop = (async () => {
    while (!stopped) {
      try {
        const n = await transactions(db, database);
        const at = Date.now();
        if (last !== null) samples.push({ tSec: Math.round((at - started) / 100) / 10, perSec: Math.round(((n - last) * 1000) / (at - lastAt)) });
        last = n;
        lastAt = at;
      } catch {
        /* a sample lost */
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    samples,
    async stop() {
      stopped = true;
      await loop;
      return { peakPerSec: samples.reduce((m, s) => Math.max(m, s.perSec), 0), samples };
    },
  };
}

/** Parses one Prometheus histogram (name_bucket/_sum/_count) out of a /metrics text. */
function parseHistogram(text, name) {
  const buckets = [];
  let sum = null;
  let count = null;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}_bucket`)) {
      const m = line.match(/le="([^"]+)"\}\s+([0-9.e+-]+)/);
      if (m) buckets.push({ le: m[1], count: Number(m[2]) });
    } else if (line.startsWith(`${name}_sum`)) sum = Number(line.split(/\s+/).pop());
    else if (line.startsWith(`${name}_count`)) count = Number(line.split(/\s+/).pop());
  }
  return { buckets, sum, count, mean: count ? Math.round((sum / count) * 100) / 100 : null };
}

/** VmRSS of a process in KiB (from /proc/<pid>/status). */
function rssKb(pid) {
  const text = require('node:fs').readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = text.match(/^VmRSS:\s+(\d+)\s+kB/m);
  return m ? Number(m[1]) : null;
}

module.exports = {
  BENCH_PASSWORD,
  mintAccessToken,
  connectDb,
  seedWorkspaces,
  appendMessages,
  insertRange,
  transactions,
  sampleTransactions,
  parseHistogram,
  rssKb,
};

/** utime + stime of a process in ms (/proc/<pid>/stat, clock ticks of 10 ms), or null when gone/unreadable. */
function cpuMs(pid) {
  try {
    const stat = require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime (fields 14, 15)
  } catch {
    return null;
  }
}

/** Busy CPU time of the whole machine in ms (/proc/stat: user+nice+system+irq+softirq+steal). */
function machineCpuMs() {
  const line = require('node:fs').readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = line;
  return (user + nice + system + irq + softirq + (steal || 0)) * 10;
}

/**
 * CPU used by named groups of processes over a window: groups() -> {name: [pid, ...]} is read at the
 * start (and the end, for processes that appear meanwhile); returns {name: cores} (CPU-seconds per second).
 */
async function cpuWindow(groups, durationMs) {
  const machine0 = machineCpuMs();
  const start = await groups();
  const t0 = Date.now();
  const before = new Map();
  for (const pids of Object.values(start)) for (const pid of pids) before.set(pid, cpuMs(pid));
  await new Promise((r) => setTimeout(r, durationMs));
  const end = await groups();
  const sec = (Date.now() - t0) / 1000;
  const machine1 = machineCpuMs();
  const out = { 'whole machine (all processes, other engineers included)': Math.round(((machine1 - machine0) / 1000 / sec) * 100) / 100 };
  for (const [name, pids] of Object.entries(end)) {
    let ms = 0;
    for (const pid of pids) {
      const a = before.get(pid) ?? 0; // a process that appeared meanwhile: all of its time counts
      const b = cpuMs(pid);
      if (b !== null && a !== null) ms += b - a;
    }
    out[name] = Math.round((ms / 1000 / sec) * 100) / 100;
  }
  return out;
}

module.exports.cpuMs = cpuMs;
module.exports.cpuWindow = cpuWindow;
