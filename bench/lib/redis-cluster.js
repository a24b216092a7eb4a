'use strict';
/**
 * A private Redis Cluster for the sharded fan-out variant (`npm run bench -- fanout-sharded`):
 * `size` masters, no replicas, on loopback, memory only, in a temporary directory. Each node is a
 * tracked child (killed with the harness). The same steps as test/support/redis-cluster.ts.
 */
const { execFile, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { promisify } = require('node:util');
const { track, stopChild } = require('./procs');

const run = promisify(execFile);

const bindable = (port) =>
  new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/** A free port P whose cluster bus port P+10000 is free too. */
async function freeClusterPort(taken) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await bindable(port)) && (await bindable(port + 10_000))) return port;
  }
  throw new Error('no free loopback port pair (P, P+10000) for a Redis Cluster node');
}

async function startRedisCluster(size = 3) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pigeon-bench-cluster-'));
  const taken = new Set();
  const ports = [];
  for (let i = 0; i < size; i++) {
    const port = await freeClusterPort(taken);
    taken.add(port).add(port + 10_000);
    ports.push(port);
  }
  const children = [];
  const stop = async () => {
    await Promise.all(children.map((child) => stopChild(child, 'SIGKILL')));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      // prettier-ignore
      const args = ['--cluster-enabled', 'yes', '--port', String(port), '--cluster-config-file', path.join(dir, `nodes-${port}.conf`),
        '--dir', dir, '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', '--loglevel', 'warning'];
      const child = track(spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] }), `redis-cluster-${port}`);
      children.push(child);
      await new Promise((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', (error) => reject(new Error(`cannot start redis-server: ${error.message}`, { cause: error })));
      });
    }
    const cli = (port, ...args) => run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 5000 }).then((r) => r.stdout);
    const waitUntil = async (what, check) => {
      const deadline = Date.now() + 20_000;
      while (!(await check().catch(() => false))) {
        if (Date.now() > deadline) throw new Error(`Redis Cluster: timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await waitUntil('PING', async () => (await Promise.all(ports.map((p) => cli(p, 'ping')))).every((a) => a.trim() === 'PONG'));
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 20_000 });
    await waitUntil('cluster_state:ok', async () => (await Promise.all(ports.map((p) => cli(p, 'cluster', 'info')))).every((i) => i.includes('cluster_state:ok')));
  } catch (error) {
    await stop();
    throw error;
  }
  return { ports, seeds: ports.map((p) => `127.0.0.1:${p}`).join(','), stop };
}

module.exports = { startRedisCluster };
