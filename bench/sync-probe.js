'use strict';
/**
 * Sequential `sync` probe (not part of `npm run bench`): one socket asks for `--limit` events from
 * random positions of a channel of `--events` events, one request at a time, with nothing else
 * running; reports latency and the API's CPU per sync by thread. PROF=<dir> adds --cpu-prof.
 *   node bench/sync-probe.js [--events=50000] [--limit=500] [--syncs=400]
 */
const { startPrivateRedis } = require('./lib/procs');
const { freshDatabase, startApiNodes, stopAll } = require('./lib/pigeon');
const { connectDb, seedWorkspaces, insertRange } = require('./lib/seed');
const { connectReadySocket } = require('./lib/socket');
const { perThread, quantiles, runMain, threadCpuMs } = require('./lib/probe');

const arg = (name, fallback) => Number((process.argv.find((a) => a.startsWith(`--${name}=`)) ?? `=${fallback}`).split('=')[1]);
const events = arg('events', 50_000);
const limit = arg('limit', 500);
const syncs = arg('syncs', 400);

async function main() {
  const redis = await startPrivateRedis('redis://127.0.0.1:6379');
  await freshDatabase();
  const db = await connectDb();
  const seed = await seedWorkspaces(db, { workspaces: 1, channelsPerWorkspace: 1, usersPerWorkspace: 1 });
  const user = seed.users[0];
  await db.query('BEGIN');
  await insertRange(db, { channelId: user.channelId, workspaceId: user.workspaceId, authorId: user.id, from: 1, to: events, bodyPrefix: 'p' });
  await db.query('COMMIT');
  await db.query('ANALYZE channel_events');
  await db.end();
  const execArgv = process.env.PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROF}`] : [];
  const nodes = await startApiNodes(1, { redisUrl: redis.url, execArgv, extraEnv: { SYNC_RATE_BURST: '100000', SYNC_RATE_PER_SECOND: '100000' } });
  const socket = await connectReadySocket(nodes[0].url, user.token);
  const once = async () => {
    const afterSeq = Math.floor(Math.random() * (events - limit));
    const ack = await socket.timeout(10_000).emitWithAck('sync', { channels: [{ channelId: user.channelId, afterSeq }], limit });
    if (!ack.ok || ack.data.channels[0].events.length !== limit) throw new Error(`sync: ${JSON.stringify(ack).slice(0, 300)}`);
  };
  for (let i = 0; i < 50; i++) await once();
  const before = threadCpuMs(nodes[0].child.pid);
  const latencies = [];
  for (let i = 0; i < syncs; i++) {
    const started = performance.now();
    await once();
    latencies.push(performance.now() - started);
  }
  const threads = perThread(before, threadCpuMs(nodes[0].child.pid), syncs);
  console.log(`${syncs} sequential syncs of ${limit} events: ${quantiles(latencies)} ms; API CPU per sync (ms): ${threads}`);
  socket.close();
  await stopAll(nodes);
  await redis.stop();
}

runMain(main);
