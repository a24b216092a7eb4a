import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Coturn {
  /** `turn:127.0.0.1:<port>?transport=udp` */
  url: string;
  port: number;
  secret: string;
  /** Relay ports coturn allocates from (inclusive). */
  relayPorts: [number, number];
  output(): string;
  stop(): Promise<void>;
}

/** Debian's coturn binary, or null when it is not installed (`apt-get install -y coturn`). */
export function turnserverPath(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v turnserver'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** A port free for both UDP and TCP on loopback (coturn listens on both). */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free port for coturn');
}

/** Resolves once coturn answers a STUN Binding request on the port. */
async function stunAnswers(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const request = Buffer.alloc(20);
  request.writeUInt16BE(0x0001, 0); // Binding request, no attributes
  request.writeUInt32BE(0x2112a442, 4); // magic cookie
  randomBytes(12).copy(request, 8);
  while (Date.now() < deadline) {
    const answered = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      const timer = setTimeout(() => socket.close(() => resolve(false)), 300);
      socket.once('message', () => {
        clearTimeout(timer);
        socket.close(() => resolve(true));
      });
      socket.send(request, port, '127.0.0.1');
    });
    if (answered) return;
  }
  throw new Error(`coturn did not answer STUN on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

/**
 * Starts coturn in the foreground on loopback with the TURN REST scheme (`use-auth-secret`), a temp config
 * and database, on a free port and a random relay range; loopback peers are allowed (both peers are here).
 */
export async function startCoturn(secret = randomBytes(24).toString('hex')): Promise<Coturn> {
  const binary = turnserverPath();
  if (!binary) throw new Error('turnserver not installed');
  const dir = mkdtempSync(join(tmpdir(), 'pigeon-coturn-'));
  const port = await freePort();
  // Below Linux's ephemeral range, so the relay ports do not race the test's own sockets.
  const low = 20000 + Math.floor(Math.random() * 9000);
  const relayPorts: [number, number] = [low, low + 199];
  const config = [
    'listening-ip=127.0.0.1',
    'relay-ip=127.0.0.1',
    `listening-port=${port}`,
    `min-port=${relayPorts[0]}`,
    `max-port=${relayPorts[1]}`,
    'use-auth-secret',
    `static-auth-secret=${secret}`,
    'realm=pigeon.test',
    'fingerprint',
    'no-tls',
    'no-dtls',
    'no-cli',
    'no-multicast-peers',
    'allow-loopback-peers',
    `pidfile=${join(dir, 'turnserver.pid')}`,
    `userdb=${join(dir, 'turndb')}`,
    'simple-log',
    'log-file=stdout',
    // Logs each allocation with its username: the test reads them to see coturn accepted Pigeon's credential.
    'verbose',
  ].join('\n');
  const configFile = join(dir, 'turnserver.conf');
  writeFileSync(configFile, `${config}\n`);
  let output = '';
  const child: ChildProcess = spawn(binary, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const died = exited.then(() => {
    throw new Error(`turnserver exited early:\n${output}`);
  });
  died.catch(() => undefined); // only the race below reads it; a later exit (stop) is expected
  await Promise.race([stunAnswers(port, 10_000), died]);
  return {
    url: `turn:127.0.0.1:${port}?transport=udp`,
    port,
    secret,
    relayPorts,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
