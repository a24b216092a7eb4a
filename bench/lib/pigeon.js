'use strict';
/**
 * Pigeon side of the harness: a fresh bench database, N API processes (dist/main.js) and the
 * users/workspace a scenario needs, made through the public REST API.
 */
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { Client } = require('pg');
const { ROOT, startServer, stopChild } = require('./procs');

const BENCH_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pigeon_bench';
const BENCH_REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const BENCH_JWT_SECRET = 'pigeon-bench-secret-0123456789abcdef0123456789';
/** The API connects as the application role (row-level security applies); migrations and seeding as the owner. */
function appRoleUrl(url) {
  const app = new URL(url);
  app.username = process.env.BENCH_APP_ROLE ?? 'pigeon_app';
  app.password = '';
  return app.toString();
}
// NODE_ENV=production serves /metrics only with a token.
const BENCH_METRICS_TOKEN = 'pigeon-bench-metrics-token';

function assertLoopback(url) {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) {
    throw new Error(`bench refuses non-loopback address ${url}`);
  }
}

/** Drops and recreates `pigeon_bench` and applies every migration with dist/database/migrate.js. */
async function freshDatabase(url = BENCH_DATABASE_URL) {
  assertLoopback(url);
  const name = new URL(url).pathname.slice(1);
  if (!/^[a-z0-9_]+$/.test(name) || !name.includes('bench')) throw new Error(`refusing to drop database "${name}" (not a bench database)`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
  const result = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'database', 'migrate.js')], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_OWNER_URL: url, DATABASE_URL: appRoleUrl(url) },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (result.status !== 0) throw new Error(`migrations failed (${result.status}): ${result.stderr || result.stdout}`);
  return url;
}

function apiEnv({ databaseUrl, redisUrl, extra = {} }) {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: appRoleUrl(databaseUrl),
    DATABASE_OWNER_URL: databaseUrl,
    REDIS_URL: redisUrl,
    JWT_SECRET: BENCH_JWT_SECRET,
    METRICS_TOKEN: BENCH_METRICS_TOKEN,
    RUN_MIGRATIONS: 'false',
    LOG_LEVEL: 'warn',
    ACCESS_TOKEN_TTL_SECONDS: '86400', // no auth:expiring/disconnect in the middle of a run
    SEND_RATE_BURST: '1000000',
    SEND_RATE_PER_SECOND: '1000000',
    // Load generators sign up, sync and connect from one address and few users.
    AUTH_RATE_PER_MINUTE: '1000000',
    SYNC_RATE_BURST: '1000000',
    SYNC_RATE_PER_SECOND: '1000000',
    SOCKETS_PER_USER_MAX: '10000',
    OPEN_RECORDINGS_PER_USER_MAX: '100',
    VOICE_CHUNK_BYTES_PER_SECOND: String(1024 * 1024 * 1024),
    CORS_ORIGINS: '*',
    ALLOW_PRIVATE_TARGETS: 'true',
    ...(process.env.MESSAGE_WRITES_IN_FLIGHT ? { MESSAGE_WRITES_IN_FLIGHT: process.env.MESSAGE_WRITES_IN_FLIGHT } : {}),
    // Experiments: BENCH_API_X=value reaches the API processes as X=value (e.g. BENCH_API_OUTBOX_RELAY=false).
    ...Object.fromEntries(
      Object.entries(process.env)
        .filter(([key]) => key.startsWith('BENCH_API_'))
        .map(([key, value]) => [key.slice('BENCH_API_'.length), value]),
    ),
    ...extra,
  };
}

/** Starts `count` API processes against the bench database and Redis. */
async function startApiNodes(count, { databaseUrl = BENCH_DATABASE_URL, redisUrl = BENCH_REDIS_URL, execArgv = [], extraEnv = {} } = {}) {
  assertLoopback(databaseUrl);
  assertLoopback(redisUrl);
  const env = apiEnv({ databaseUrl, redisUrl, extra: extraEnv });
  const nodes = [];
  for (let i = 0; i < count; i++) {
    nodes.push(await startServer(`api-${i}`, path.join(ROOT, 'dist', 'main.js'), env, { execArgv }));
  }
  return nodes;
}

async function stopAll(nodes) {
  await Promise.all(nodes.map((n) => stopChild(n.child, 'SIGTERM', 10_000)));
}

// ---------------------------------------------------------------- REST

async function request(baseUrl, method, pathname, body, token) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(baseUrl + pathname, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let parsed = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* text */
  }
  return { status: response.status, body: parsed };
}

function expect(res, status, what) {
  if (res.status !== status) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  return res.body;
}

async function retrying(what, fn, attempts = 3) {
  let last;
  for (let i = 0; i < attempts; i++) {
    try {
      return await fn();
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, 200 * (i + 1)));
    }
  }
  throw new Error(`${what}: ${last && last.message}`);
}

/** Runs `fn(i)` for i in [0, n) with at most `concurrency` in flight, printing progress. */
async function pool(n, concurrency, fn, label, log) {
  const out = new Array(n);
  let next = 0;
  let done = 0;
  const started = Date.now();
  let lastPrint = 0;
  async function lane() {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
      done++;
      if (log && (Date.now() - lastPrint > 5000 || done === n)) {
        lastPrint = Date.now();
        log(`  ${label}: ${done}/${n} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
  return out;
}

/**
 * `count` users in one workspace (user 0 owns it, the others join through one multi-use invite),
 * all members of its `general` channel. Registration hashes with argon2, so it runs 8 at a time.
 */
async function setupWorkspace(baseUrl, count, { concurrency = 8, log = () => undefined } = {}) {
  const runId = Date.now().toString(36);
  const password = 'bench-password-0123456789';
  const users = await pool(
    count,
    concurrency,
    (i) =>
      retrying(`register ${i}`, async () => {
        const res = await request(baseUrl, 'POST', '/api/auth/register', {
          email: `bench-${runId}-${i}@example.com`,
          password,
          displayName: `bench ${i}`,
        });
        if (res.status === 409) {
          const login = await request(baseUrl, 'POST', '/api/auth/login', { email: `bench-${runId}-${i}@example.com`, password });
          const b = expect(login, 200, 'login');
          return { id: b.user.id, token: b.accessToken };
        }
        const b = expect(res, 201, 'register');
        return { id: b.user.id, token: b.accessToken };
      }),
    'register',
    log,
  );
  const owner = users[0];
  const workspace = expect(
    await request(baseUrl, 'POST', '/api/workspaces', { name: 'Bench', slug: `bench-${runId}`.slice(0, 39) }, owner.token),
    201,
    'create workspace',
  );
  const channels = expect(await request(baseUrl, 'GET', `/api/workspaces/${workspace.id}/channels`, undefined, owner.token), 200, 'list channels');
  const general = channels.find((c) => c.name === 'general');
  if (!general) throw new Error('workspace has no general channel');
  const invite = expect(
    await request(baseUrl, 'POST', `/api/workspaces/${workspace.id}/invites`, { role: 'member', maxUses: count + 10 }, owner.token),
    201,
    'create invite',
  );
  await pool(
    count - 1,
    concurrency * 2,
    (i) =>
      retrying(`accept ${i + 1}`, async () => {
        const res = await request(baseUrl, 'POST', `/api/invites/${invite.code}/accept`, undefined, users[i + 1].token);
        expect(res, 200, 'accept invite');
      }),
    'join',
    log,
  );
  return { workspaceId: workspace.id, channelId: general.id, users };
}

module.exports = { BENCH_DATABASE_URL, BENCH_REDIS_URL, BENCH_JWT_SECRET, BENCH_METRICS_TOKEN, freshDatabase, startApiNodes, stopAll, setupWorkspace, request, assertLoopback };
