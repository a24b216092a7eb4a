import { ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { TEST_APP_DATABASE_URL, TEST_DATABASE_URL, TEST_JWT_SECRET, TEST_REDIS_PREFIX, TEST_REDIS_URL } from './env';

export interface TestServer {
  url: string;
  port: number;
  process: ChildProcess;
  /** Graceful stop (SIGTERM), waits for exit. */
  stop(): Promise<void>;
  /** `kill -9`. */
  crash(): Promise<void>;
  output(): string;
}

const ROOT = process.cwd();

/** Starts a real API process (`dist/main.js`) on a random port, against the test database and Redis. */
export async function startServer(env: Record<string, string> = {}, entry = 'main.js'): Promise<TestServer> {
  let output = '';
  const child = fork(join(ROOT, 'dist', entry), [], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: '0',
      // Workers' metrics ports too: several workers (and other runs) share this machine.
      WORKER_PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: TEST_APP_DATABASE_URL,
      DATABASE_OWNER_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: TEST_REDIS_PREFIX,
      JWT_SECRET: TEST_JWT_SECRET,
      RUN_MIGRATIONS: 'false',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      CORS_ORIGINS: 'http://allowed.example',
      // Every suite signs up its users from 127.0.0.1; the per-address sign-up limit has its own test.
      AUTH_RATE_PER_MINUTE: '100000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 30 s:\n${output}`)), 30_000);
    child.on('message', (message: { type?: string; port?: number }) => {
      if (message.type === 'listening' && message.port) {
        clearTimeout(timer);
        resolve(message.port);
      } else if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(0);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    async crash() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
