import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, connect, type Server as NetServer, type Socket as NetSocket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { Client } from 'pg';
import { Api } from './support/api';
import { TEST_DATABASE_URL, TEST_REDIS_PREFIX, TEST_REDIS_URL } from './support/env';
import { addMember, createWorkspace, rawSocket, sdkClient, sleep, TestWorkspace, waitFor } from './support/fixtures';
import { startServer, TestServer } from './support/server';

const SHUTDOWN_TIMEOUT_MS = 10_000;
const FFMPEG: string = createRequire(join(process.cwd(), 'package.json'))('@ffmpeg-installer/ffmpeg').path;
const FAST = { SEND_RATE_BURST: '100000', SEND_RATE_PER_SECOND: '100000', SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) };

/** Loopback TCP proxy to the first of `ports()` that accepts, as a load balancer in front of the nodes. */
function failoverProxy(ports: () => number[]): Promise<{ url: string; server: NetServer; close: () => void }> {
  const open = new Set<NetSocket>();
  const server = createServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => undefined);
    client.pause();
    const tryPort = (candidates: number[]) => {
      if (candidates.length === 0) return client.destroy();
      const upstream = connect(candidates[0], '127.0.0.1');
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        open.add(upstream);
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
        client.pipe(upstream).pipe(client);
        client.resume();
      });
      upstream.once('error', () => {
        upstream.destroy();
        if (!connected) tryPort(candidates.slice(1));
      });
    };
    tryPort(ports());
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ url: `http://127.0.0.1:${port}`, server, close: () => (open.forEach((s) => s.destroy()), server.close()) });
    }),
  );
}

/** SIGTERM on an API node (issue 14, safe deploys): real processes, real sockets, real Postgres. */
describe('graceful shutdown', () => {
  let a: TestServer;
  let b: TestServer;
  let api: Api;
  let db: Client;
  let team: TestWorkspace;

  beforeAll(async () => {
    [a, b] = await Promise.all([startServer(FAST), startServer(FAST)]);
    api = new Api(b.url);
    db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    team = await createWorkspace(api);
  });
  afterAll(async () => {
    await db.end();
    await Promise.all([a, b].map((n) => n.stop()));
  });

  it('SIGTERM during sends: every acked message is stored, SDK clients move to the other node without an error, the process exits 0 within the deadline', async () => {
    const proxy = await failoverProxy(() => [a, b].filter((n) => n.process.exitCode === null && n.process.signalCode === null).map((n) => n.port));
    // Raw sockets on A (they see the shutdown event and the server's disconnect) and SDK clients through the proxy (all on A first).
    const rawMembers = await Promise.all([0, 1, 2].map((i) => addMember(api, team, `raw${i}`)));
    const sdkMembers = await Promise.all([0, 1, 2].map((i) => addMember(api, team, `sdk${i}`)));
    const raws = await Promise.all(rawMembers.map((m) => rawSocket(a.url, m.accessToken)));
    const shutdownNotices: unknown[] = [];
    const rawDisconnects: string[] = [];
    raws.forEach((s) => {
      s.on('server:shutdown', (p: unknown) => shutdownNotices.push(p));
      s.on('disconnect', (reason: string) => rawDisconnects.push(reason));
    });
    const clients = sdkMembers.map((m) => sdkClient(proxy.url, m.accessToken, { backoff: { initialDelayMs: 100, maxDelayMs: 500 } }));
    const sdkErrors: string[] = [];
    const requestErrors: string[] = [];
    for (const client of clients) {
      client.on('error', (e) => sdkErrors.push(`${(e as { code?: string }).code ?? ''} ${e.message}`));
      const request = client.request.bind(client) as typeof client.request;
      (client as { request: unknown }).request = async (...args: Parameters<typeof request>) => {
        try {
          return await request(...args);
        } catch (error) {
          requestErrors.push(String((error as { code?: string }).code));
          throw error;
        }
      };
      await client.connect();
    }

    const acked: string[] = [];
    const rawErrors: unknown[] = [];
    let sending = true;
    const rawLoops = raws.map(async (socket, n) => {
      for (let i = 0; sending && socket.connected; i++) {
        const clientMsgId = `sd-raw-${n}-${i}-${randomUUID()}`;
        try {
          const ack = await socket.timeout(5000).emitWithAck('message:send', { channelId: team.generalId, clientMsgId, body: `raw ${i}` });
          if (ack.ok) acked.push(clientMsgId);
          else rawErrors.push(ack.error);
        } catch {
          // No ack (socket closed): not acked, so nothing is promised about this one.
        }
      }
    });
    const sdkLoops = clients.map(async (client, n) => {
      for (let i = 0; sending; i++) {
        const clientMsgId = `sd-sdk-${n}-${i}-${randomUUID()}`;
        const message = await client.send({ channelId: team.generalId, clientMsgId, body: `sdk ${i}` });
        expect(message.clientMsgId).toBe(clientMsgId);
        acked.push(clientMsgId);
      }
    });

    await waitFor(() => acked.length >= 60, 15_000, 'sends before the SIGTERM');
    const signalledAt = Date.now();
    const exited = new Promise<{ code: number | null; ms: number }>((resolve) =>
      a.process.once('exit', (code) => resolve({ code, ms: Date.now() - signalledAt })),
    );
    a.process.kill('SIGTERM');
    const exit = await exited;
    const ackedBeforeExit = acked.length;
    // The SDK clients keep sending on B.
    await waitFor(() => acked.length >= ackedBeforeExit + 30, 15_000, 'sends on the other node');
    sending = false;
    await Promise.all([...rawLoops, ...sdkLoops]);

    expect(exit.code).toBe(0);
    expect(exit.ms).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    const stored = await db.query('SELECT client_msg_id FROM messages WHERE client_msg_id = ANY($1::text[])', [acked]);
    const storedIds = new Set(stored.rows.map((r: { client_msg_id: string }) => r.client_msg_id));
    expect(acked.filter((id) => !storedIds.has(id))).toEqual([]);
    expect(stored.rows.length).toBe(acked.length);
    expect(shutdownNotices).toHaveLength(raws.length);
    expect(rawDisconnects).toEqual(raws.map(() => 'io server disconnect'));
    expect(rawErrors).toEqual([]);
    // A reconnect, nothing more: no failed request, no background error.
    expect(requestErrors).toEqual([]);
    expect(sdkErrors).toEqual([]);
    clients.forEach((c) => c.disconnect());
    proxy.close();
  });

  it('SIGTERM of the worker mid-transcode: at the deadline the job goes back to its queue (not left to its lock) and the next worker finishes it', async () => {
    const storageDir = mkdtempSync(join(tmpdir(), 'pigeon-shutdown-voice-'));
    // A 60 s lock: recovery through lock expiry would come far later than the hand-back.
    const env = { VOICE_STORAGE_DIR: storageDir, VOICE_JOB_LOCK_MS: '60000', SHUTDOWN_TIMEOUT_MS: '3000' };
    const path = join(storageDir, 'long.ogg');
    // Four minutes of tone: the transcode outlasts the 3 s deadline. Made before any request: a
    // synchronous ffmpeg run longer than the server's keep-alive timeout would leave fetch a dead socket.
    execFileSync(FFMPEG, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=300:duration=240', '-ac', '1', '-c:a', 'libopus', '-b:a', '24k', path]);
    const server = await startServer(env);
    let worker = await startServer(env, 'worker.js');
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const voiceTeam = await createWorkspace(new Api(server.url));
      const form = new FormData();
      form.append('clientMsgId', randomUUID());
      form.append('file', new Blob([readFileSync(path)], { type: 'audio/ogg' }), 'voice.ogg');
      const response = await fetch(`${server.url}/api/workspaces/${voiceTeam.id}/channels/${voiceTeam.generalId}/voice`, {
        method: 'POST',
        headers: { authorization: `Bearer ${voiceTeam.owner.accessToken}` },
        body: form,
      }).catch((error: unknown) => {
        throw new Error(`upload failed: ${String(error)}\n${server.output().slice(-3000)}`);
      });
      expect(response.status).toBe(202);
      const voiceId = ((await response.json()) as { voice: { id: string } }).voice.id;
      const active = () => redis.lrange(`${TEST_REDIS_PREFIX}:bull:voice:active`, 0, -1);
      const deadline = Date.now() + 30_000;
      while (!(await active()).includes(voiceId)) {
        if (Date.now() > deadline) throw new Error('the transcode job did not start');
        await sleep(50);
      }
      const exited = new Promise<number | null>((resolve) => worker.process.once('exit', (code) => resolve(code)));
      worker.process.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(await active()).not.toContain(voiceId);
      expect(await redis.lrange(`${TEST_REDIS_PREFIX}:bull:voice:wait`, 0, -1)).toContain(voiceId);
      worker = await startServer(env, 'worker.js');
      const db2 = new Client({ connectionString: TEST_DATABASE_URL });
      await db2.connect();
      try {
        const status = async () => (await db2.query('SELECT status FROM voice_clips WHERE id = $1', [voiceId])).rows[0].status as string;
        const readyBy = Date.now() + 120_000;
        while ((await status()) === 'processing' && Date.now() < readyBy) await sleep(250);
        expect(await status()).toBe('ready');
      } finally {
        await db2.end();
      }
    } finally {
      redis.disconnect();
      await Promise.all([server.stop(), worker.stop()]);
      rmSync(storageDir, { recursive: true, force: true });
    }
  }, 180_000);

  it('the worker serves /metrics and health on WORKER_PORT, logs and measures each job, and exits 0 on SIGTERM', async () => {
    // At info, the worker's start line names the port it picked.
    const worker = await startServer({ WORKER_PORT: '0', LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) }, 'worker.js');
    const port = await new Promise<number>((resolve) => {
      const seen = /metrics and health on port (\d+)/.exec(worker.output());
      if (seen) return resolve(Number(seen[1]));
      const timer = setInterval(() => {
        const m = /metrics and health on port (\d+)/.exec(worker.output());
        if (m) {
          clearInterval(timer);
          resolve(Number(m[1]));
        }
      }, 50);
    });
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', info: { postgres: { status: 'up' }, redis: { status: 'up' } } });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const queue of ['voice', 'push', 'webhooks']) expect(metrics).toContain(`pigeon_queue_jobs{queue="${queue}",state="waiting"}`);
    expect(metrics).toContain('pigeon_nodejs_eventloop_lag_seconds');

    // A push job for a message that does not exist: the processor finds nothing to send and completes.
    const queue = new Queue('push', { connection: { url: TEST_REDIS_URL }, prefix: `${TEST_REDIS_PREFIX}:bull` });
    const jobId = `${randomUUID()}.1`;
    await queue.add('message', { workspaceId: randomUUID(), channelId: randomUUID(), seq: 1, messageId: randomUUID() }, { jobId });
    await waitFor(() => worker.output().includes(`job completed push/${jobId}`), 15_000, 'the job end line');
    await queue.close();
    const line = worker.output().split('\n').find((l) => l.includes(`job completed push/${jobId}`))!;
    expect(JSON.parse(line)).toMatchObject({ queue: 'push', jobId, job: 'message', outcome: 'completed', durationMs: expect.any(Number) });
    // Never the job's data.
    expect(line).not.toContain('messageId');
    expect(worker.output()).toContain(`job started push/${jobId}`);
    const after = await (await fetch(`${base}/metrics`)).text();
    expect(after).toMatch(/pigeon_job_duration_seconds_count\{queue="push",outcome="completed"\} [1-9]/);
    const started = Date.now();
    const exited = new Promise<number | null>((resolve) => worker.process.once('exit', (code) => resolve(code)));
    worker.process.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    await sleep(0);
  });
});
