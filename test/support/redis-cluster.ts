import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';

const run = promisify(execFile);

export interface TestRedisCluster {
  ports: number[];
  /** `127.0.0.1:P1,127.0.0.1:P2,...`, as REDIS_FANOUT_CLUSTER_NODES takes it. */
  seeds: string;
  /** One plain connection per master (for PUBSUB SHARD* and CLUSTER queries). */
  masters: Redis[];
  output(): string;
  stop(): Promise<void>;
}

/** Whether a loopback port can be bound (then closed again). */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free port P whose cluster bus port P+10000 is free too (Redis Cluster listens on both). */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await bindable(port)) && (await bindable(port + 10_000))) return port;
  }
  throw new Error('no free loopback port pair (P, P+10000) for a Redis Cluster node');
}

async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`Redis Cluster: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A throw-away Redis Cluster of `size` masters and no replicas on loopback, in its own temporary
 * directory (no persistence). Fails loudly if redis-server or redis-cli is missing: a skipped
 * cluster test would hide that the sharded path is untested.
 */
export async function startRedisCluster(size = 3): Promise<TestRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'pigeon-redis-cluster-'));
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let i = 0; i < size; i++) {
    const port = await freeClusterPort(taken);
    taken.add(port).add(port + 10_000);
    ports.push(port);
  }
  let output = '';
  const servers: ChildProcess[] = [];
  const masters: Redis[] = [];
  const stop = async () => {
    masters.forEach((m) => m.disconnect());
    await Promise.all(
      servers.map((server) => {
        if (server.exitCode !== null || server.signalCode !== null) return Promise.resolve();
        const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
        server.kill('SIGKILL');
        return exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      // prettier-ignore
      const server = spawn('redis-server', [
        '--cluster-enabled', 'yes', '--port', String(port), '--cluster-config-file', join(dir, `nodes-${port}.conf`),
        '--dir', dir, '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1',
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      server.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      server.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('spawn', () => resolve());
        server.once('error', (error) => reject(new Error(`cannot start redis-server (is it installed? it must be for this test): ${error.message}`, { cause: error })));
      });
    }
    for (const port of ports) {
      const master = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
      master.on('error', () => undefined); // the first attempts race the server's start
      masters.push(master);
    }
    await waitUntil('every redis-server to answer PING', 10_000, async () => {
      await Promise.all(masters.map((m) => (m.status === 'wait' ? m.connect() : Promise.resolve())));
      return (await Promise.all(masters.map((m) => m.ping()))).every((answer) => answer === 'PONG');
    });
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 20_000 }).catch(
      (error: Error & { stdout?: string; stderr?: string }) => {
        throw new Error(`redis-cli --cluster create failed (is redis-cli installed?): ${error.message}\n${error.stdout ?? ''}${error.stderr ?? ''}`, { cause: error });
      },
    );
    await waitUntil('cluster_state:ok on every node', 20_000, async () =>
      (await Promise.all(masters.map((m) => m.cluster('INFO')))).every((info) => String(info).includes('cluster_state:ok')),
    );
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\nredis-server output:\n${output}`, { cause: error });
  }
  return { ports, seeds: ports.map((p) => `127.0.0.1:${p}`).join(','), masters, output: () => output, stop };
}
