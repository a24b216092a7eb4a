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
const fs = require('node:fs');
const path = require('node:path');

const args = process.argv.slice(2);
const tree = path.resolve(args.find((a) => !a.startsWith('--')) ?? path.join(__dirname, '..'));
const sends = Number((args.find((a) => a.startsWith('--sends=')) ?? '--sends=600').split('=')[1]);
const { startPrivateRedis } = require(path.join(tree, 'bench/lib/procs'));
const { freshDatabase, startApiNodes, stopAll, setupWorkspace } = require(path.join(tree, 'bench/lib/pigeon'));
const { io } = require(path.join(tree, 'node_modules/socket.io-client'));

const WARM_UP = 50;

/** CPU ms per thread name (main thread, libuv pool, V8 helpers...), user and system time apart. */
function threadCpuMs(pid) {
  const byName = new Map();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      byName.set(`${name} user`, (byName.get(`${name} user`) ?? 0) + Number(fields[11]) * 10);
      byName.set(`${name} sys`, (byName.get(`${name} sys`) ?? 0) + Number(fields[12]) * 10);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return byName;
}

function cpuMs(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime, in clock ticks (100 per second here).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

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
  const threads = [...threadCpuMs(nodes[0].child.pid)]
    .map(([name, ms]) => [name, (ms - (threadsAtStart.get(name) ?? 0)) / sends])
    .filter(([, perSend]) => perSend > 0.005)
    .sort((a, b) => b[1] - a[1]);
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.floor(p * (latencies.length - 1))].toFixed(2);
  console.log(`${tree}: ${sends} sequential sends, ack p50 ${q(0.5)} p90 ${q(0.9)} p99 ${q(0.99)} ms; API CPU ${cpuPerSend.toFixed(2)} ms/send`);
  console.log(`  by thread (ms/send): ${threads.map(([name, perSend]) => `${name} ${perSend.toFixed(2)}`).join(', ')}`);
  socket.close();
  await stopAll(nodes);
  await redis.stop();
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
