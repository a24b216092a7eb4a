'use strict';
/**
 * Sequential send probe (not part of `npm run bench`): one socket sends `message:send` one after
 * another with nothing else running, so each ack is the bare cost of one write path (one group
 * commit of one send). Reports ack p50/p90/p99 and the API process's CPU per send (from /proc).
 *   node bench/send-latency.js [TREE] [--sends=600]
 * TREE (default: this checkout) is a Pigeon checkout with `dist/` built; pointing it at a worktree of
 * an older commit gives the A/B pair (docs/BENCHMARKS.md, "wave 3 A/B"). PROF=<dir> adds --cpu-prof.
 * Uses that tree's bench harness, a private redis-server and BENCH_DATABASE_URL (dropped and migrated).
 */
const path = require('node:path');

const args = process.argv.slice(2);
const tree = path.resolve(args.find((a) => !a.startsWith('--')) ?? path.join(__dirname, '..'));
const sends = Number((args.find((a) => a.startsWith('--sends=')) ?? '--sends=600').split('=')[1]);
const { startPrivateRedis } = require(path.join(tree, 'bench/lib/procs'));
const { freshDatabase, startApiNodes, stopAll, setupWorkspace } = require(path.join(tree, 'bench/lib/pigeon'));
const { io } = require(path.join(tree, 'node_modules/socket.io-client'));
// This checkout's helpers, whichever tree is measured.
const { perThread, quantiles, runMain, threadCpuMs } = require('./lib/probe');
const { cpuMs } = require('./lib/seed');

const WARM_UP = 50;

async function main() {
  const redis = await startPrivateRedis('redis://127.0.0.1:6379');
  await freshDatabase();
  const execArgv = process.env.PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROF}`] : [];
  const nodes = await startApiNodes(1, { redisUrl: redis.url, execArgv });
  const { url } = nodes[0];
  const team = await setupWorkspace(url, 2);
  const socket = io(`${url}/rt`, { transports: ['websocket'], forceNew: true, reconnection: false, auth: { token: team.users[0].token } });
  await new Promise((resolve) => socket.once('ready', resolve));
  const latencies = [];
  let cpuAtStart = 0;
  let threadsAtStart = new Map();
  for (let i = 0; i < sends + WARM_UP; i++) {
    if (i === WARM_UP) {
      cpuAtStart = cpuMs(nodes[0].child.pid);
      threadsAtStart = threadCpuMs(nodes[0].child.pid);
    }
    const started = performance.now();
    const ack = await socket.timeout(5000).emitWithAck('message:send', { channelId: team.channelId, clientMsgId: `probe-${i}`, body: 'x'.repeat(64) });
    if (!ack.ok) throw new Error(`send ${i}: ${JSON.stringify(ack)}`);
    if (i >= WARM_UP) latencies.push(performance.now() - started);
  }
  const cpuPerSend = (cpuMs(nodes[0].child.pid) - cpuAtStart) / sends;
  const threads = perThread(threadsAtStart, threadCpuMs(nodes[0].child.pid), sends);
  console.log(`${tree}: ${sends} sequential sends, ack ${quantiles(latencies)} ms; API CPU ${cpuPerSend.toFixed(2)} ms/send`);
  console.log(`  by thread (ms/send): ${threads}`);
  socket.close();
  await stopAll(nodes);
  await redis.stop();
}

runMain(main);
