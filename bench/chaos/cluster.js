'use strict';
/** A private Pigeon cluster (Postgres, Redis, API nodes, optional worker) and a populated workspace. */
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');
const { randomUUID } = require('node:crypto');
const { Client: PgClient } = require('pg');
const lib = require('./lib');

const CLIENT_DIST = path.join(lib.ROOT, 'client', 'dist', 'index.js');

function loadSdk() {
  const srcDir = path.join(lib.ROOT, 'client', 'src');
  const newestSource = Math.max(...fs.readdirSync(srcDir).map((name) => fs.statSync(path.join(srcDir, name)).mtimeMs));
  const stale = !fs.existsSync(CLIENT_DIST) || newestSource > fs.statSync(CLIENT_DIST).mtimeMs;
  if (stale) {
    // The package build (tsup: ESM + CJS + types), as `npm pack` makes it.
    lib.log('building the client SDK (npm run build:client)');
    const r = spawnSync('npm', ['run', 'build:client'], { cwd: lib.ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('client SDK build failed');
  }
  return require(CLIENT_DIST);
}

/** `env` is an object, or a function of the cluster's temp dir returning one. */
async function startCluster({ nodes = 3, worker = false, env = {} } = {}) {
  const dir = lib.tempDir();
  const [pgPort, redisPort] = [await lib.freePort(), await lib.freePort()];
  const pg = new lib.PostgresServer(pgPort, dir);
  lib.log(`postgres: initdb + start on ${pgPort} (${dir})`);
  pg.init();
  pg.start();
  const migrated = spawnSync(process.execPath, [path.join(lib.DIST, 'database', 'migrate.js')], {
    env: { ...process.env, DATABASE_URL: pg.url() },
    encoding: 'utf8',
  });
  if (migrated.status !== 0) throw new Error(`migrations failed: ${migrated.stderr}`);
  const redis = new lib.RedisServer(redisPort);
  await redis.start();
  lib.log(`redis on ${redisPort}`);
  const baseEnv = {
    DATABASE_URL: pg.url(),
    REDIS_URL: redis.url,
    JWT_SECRET: lib.JWT_SECRET,
    RUN_MIGRATIONS: 'false',
    WORKER_PORT: '0',
    SEND_RATE_BURST: '1000000',
    SEND_RATE_PER_SECOND: '1000000',
    // Chaos clients sign up, reconnect and resync from one address: the per-user caps are not under test.
    AUTH_RATE_PER_MINUTE: '1000000',
    SYNC_RATE_BURST: '1000000',
    SYNC_RATE_PER_SECOND: '1000000',
    SOCKETS_PER_USER_MAX: '10000',
    ACCESS_TOKEN_TTL_SECONDS: '7200',
    LOG_LEVEL: process.env.CHAOS_LOG_LEVEL || 'warn',
    CORS_ORIGINS: '*',
    ...(typeof env === 'function' ? env(dir) : env),
  };
  const apis = Array.from({ length: nodes }, (_, i) => new lib.NodeProcess(`api${i}`, 'main.js', baseEnv));
  await Promise.all(apis.map((n) => n.start()));
  lib.log(`api nodes on ports ${apis.map((n) => n.port).join(', ')}`);
  let workerProcess;
  if (worker) {
    workerProcess = new lib.NodeProcess('worker', 'worker.js', baseEnv);
    await workerProcess.start();
  }
  const db = new PgClient({ connectionString: pg.url() });
  await db.connect();
  db.on('error', () => undefined);
  return { dir, pg, redis, apis, worker: workerProcess, db, env: baseEnv };
}

/** Reconnects the harness's own Postgres client (after an outage). */
async function reconnectDb(cluster) {
  try {
    await cluster.db.end();
  } catch {
    /* was broken */
  }
  cluster.db = new PgClient({ connectionString: cluster.pg.url() });
  cluster.db.on('error', () => undefined);
  await cluster.db.connect();
}

async function pool(items, concurrency, fn) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i], i);
      }
    }),
  );
  return results;
}

/**
 * One workspace with `users` members split into private channels of `groupSize` (plus the
 * owner, who does not send). Returns users [{id, accessToken, channelId}] and channel ids.
 */
async function populate(baseUrls, { users: count, groupSize }) {
  const url = (i) => baseUrls[i % baseUrls.length];
  const password = 'correct-horse-battery-staple';
  const register = async (name, i) => {
    const body = await lib.must(
      lib.http(url(i), 'POST', '/api/auth/register', { email: `${name}-${randomUUID()}@chaos.example`, password, displayName: name }),
      201,
      'register',
    );
    return { ...body.user, accessToken: body.accessToken };
  };
  const owner = await register('owner', 0);
  const ws = await lib.must(lib.http(url(0), 'POST', '/api/workspaces', { name: 'Chaos', slug: `chaos-${randomUUID().slice(0, 8)}` }, owner.accessToken), 201, 'workspace');
  const invite = await lib.must(lib.http(url(0), 'POST', `/api/workspaces/${ws.id}/invites`, { role: 'member', maxUses: 10000 }, owner.accessToken), 201, 'invite');
  const t = Date.now();
  const users = await pool(Array.from({ length: count }, (_, i) => i), 6, async (i) => {
    const user = await register(`u${i}`, i);
    await lib.must(lib.http(url(i), 'POST', `/api/invites/${invite.code}/accept`, undefined, user.accessToken), 200, 'accept');
    return user;
  });
  lib.log(`registered ${count} users in ${Date.now() - t} ms`);
  const channels = [];
  for (let g = 0; g * groupSize < count; g++) {
    const members = users.slice(g * groupSize, (g + 1) * groupSize);
    const channel = await lib.must(
      lib.http(url(g), 'POST', `/api/workspaces/${ws.id}/channels`, { name: `chaos-${g}`, kind: 'private', memberIds: members.map((m) => m.id) }, owner.accessToken),
      201,
      'channel',
    );
    channels.push(channel.id);
    for (const m of members) m.channelId = channel.id;
  }
  return { owner, workspaceId: ws.id, users, channels };
}

module.exports = { loadSdk, startCluster, reconnectDb, populate, pool };
