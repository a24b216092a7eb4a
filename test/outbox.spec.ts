import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { createRequire } from 'node:module';
import { AddressInfo, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { Api } from './support/api';
import { TEST_DATABASE_URL } from './support/env';
import { createWorkspace, sleep, TestWorkspace } from './support/fixtures';
import { startServer, TestServer } from './support/server';

const FFMPEG: string = createRequire(join(process.cwd(), 'package.json'))('@ffmpeg-installer/ffmpeg').path;

async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A redis-server of this suite's own (a spare port, no persistence): paused, killed and restarted at will. */
class OwnRedis {
  private child: ChildProcess | undefined;
  constructor(readonly port: number) {}
  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 100; i++) {
      try {
        execFileSync('redis-cli', ['-p', String(this.port), 'ping'], { stdio: 'pipe', timeout: 1000 });
        return;
      } catch {
        await sleep(50);
      }
    }
    throw new Error('redis-server did not start');
  }
  pause() {
    this.child!.kill('SIGSTOP');
  }
  resume() {
    this.child!.kill('SIGCONT');
  }
  cli(...args: string[]): string {
    return execFileSync('redis-cli', ['-p', String(this.port), ...args], { encoding: 'utf8', timeout: 5000 }).trim();
  }
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

/** A loopback webhook receiver counting requests per `Pigeon-Delivery` id. */
async function receiver() {
  const byDelivery = new Map<string, number>();
  let total = 0;
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      total++;
      const id = String(request.headers['pigeon-delivery']);
      byDelivery.set(id, (byDelivery.get(id) ?? 0) + 1);
      response.statusCode = 204;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    byDelivery,
    total: () => total,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function toneWav(dir: string): Buffer {
  const path = join(dir, `tone-${randomUUID()}.wav`);
  execFileSync(FFMPEG, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-ac', '1', '-ar', '16000', path]);
  return readFileSync(path);
}

/**
 * The outbox end to end: the API commits (its relay off, so every side effect waits in `outbox`),
 * and the worker relays to BullMQ on a Redis of this suite's own, which the tests pause and flush.
 */
describe('transactional outbox', () => {
  let redis: OwnRedis;
  let server: TestServer;
  let worker: TestServer;
  let api: Api;
  let team: TestWorkspace;
  let db: Client;
  let hook: Awaited<ReturnType<typeof receiver>>;
  let storageDir: string;
  let workDir: string;

  const workerEnv = () => ({
    REDIS_URL: redis.url,
    ALLOW_PRIVATE_TARGETS: 'true',
    VOICE_STORAGE_DIR: storageDir,
    WEBHOOK_BACKOFF_BASE_MS: '50',
    OUTBOX_LEASE_MS: '2000',
    OUTBOX_POLL_MS: '100',
    OUTBOX_SWEEP_MS: '300',
    // Only rows made to look an hour old are swept, so the other tests see the relay alone.
    OUTBOX_STUCK_AFTER_MS: '600000',
  });

  beforeAll(async () => {
    storageDir = mkdtempSync(join(tmpdir(), 'pigeon-outbox-store-'));
    workDir = mkdtempSync(join(tmpdir(), 'pigeon-outbox-test-'));
    redis = new OwnRedis(await freePort());
    await redis.start();
    db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    [server, worker, hook] = await Promise.all([
      startServer({ ALLOW_PRIVATE_TARGETS: 'true', VOICE_STORAGE_DIR: storageDir, OUTBOX_RELAY: 'false' }),
      startServer(workerEnv(), 'worker.js'),
      receiver(),
    ]);
    api = new Api(server.url);
    team = await createWorkspace(api);
    const created = await api.post(
      `/api/workspaces/${team.id}/webhooks`,
      { url: hook.url, events: ['message.created'] },
      team.owner.accessToken,
    );
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), worker?.stop(), hook?.close()]);
    await redis?.stop();
    await db?.end();
    rmSync(storageDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  const send = async (body: string) => {
    const sent = await api.post(
      `/api/workspaces/${team.id}/channels/${team.generalId}/messages`,
      { clientMsgId: randomUUID(), body },
      team.owner.accessToken,
    );
    expect(sent.status).toBe(201);
    return sent.body as { id: string; seq: number };
  };
  const upload = async (clientMsgId = randomUUID()) => {
    const form = new FormData();
    form.append('clientMsgId', clientMsgId);
    form.append('file', new Blob([new Uint8Array(toneWav(workDir))]), 'tone.wav');
    const response = await fetch(`${server.url}/api/workspaces/${team.id}/channels/${team.generalId}/voice`, {
      method: 'POST',
      headers: { authorization: `Bearer ${team.owner.accessToken}` },
      body: form,
    });
    expect(response.status).toBe(202);
    return (await response.json()) as { id: string; voice: { id: string; status: string } };
  };
  const voiceStatus = async (voiceId: string) =>
    (await db.query<{ status: string }>('SELECT status FROM voice_clips WHERE id = $1', [voiceId])).rows[0]?.status;
  const waitForVoice = async (voiceId: string) => {
    const deadline = Date.now() + 60_000;
    while (!['ready', 'failed'].includes((await voiceStatus(voiceId)) ?? '')) {
      if (Date.now() > deadline) throw new Error(`voice ${voiceId} still ${await voiceStatus(voiceId)}`);
      await sleep(100);
    }
    return voiceStatus(voiceId);
  };
  const deliveriesOf = async (messageIds: string[]) =>
    (
      await db.query<{ id: string; status: string }>(
        `SELECT id, status FROM webhook_deliveries WHERE payload->'data'->>'id' = ANY($1::text[])`,
        [messageIds],
      )
    ).rows;
  const outboxRows = async () =>
    (await db.query<{ n: number; failed: number }>(
      'SELECT count(*)::int AS n, count(*) FILTER (WHERE last_error IS NOT NULL)::int AS failed FROM outbox WHERE workspace_id = $1',
      [team.id],
    )).rows[0];
  const expectEachDeliveredOnce = async (messageIds: string[]) => {
    const deadline = Date.now() + 30_000;
    let rows: { id: string; status: string }[];
    for (;;) {
      rows = await deliveriesOf(messageIds);
      if (rows.length === messageIds.length && rows.every((r) => r.status === 'delivered' && hook.byDelivery.has(r.id))) break;
      if (Date.now() > deadline) throw new Error(`deliveries: ${JSON.stringify(rows)}`);
      await sleep(100);
    }
    // Another relay pass or a re-claimed row must not send any of them again.
    await sleep(1000);
    expect(rows.map((r) => hook.byDelivery.get(r.id))).toEqual(messageIds.map(() => 1));
  };

  it('keeps what commits while Redis is paused and relays it once Redis is back, each effect once', async () => {
    redis.pause();
    let messages: { id: string }[];
    let voice: { id: string; voice: { id: string } };
    try {
      messages = await Promise.all([1, 2, 3, 4, 5].map((n) => send(`paused ${n}`)));
      voice = await upload();
      // The relay tried, timed out against the paused Redis, and left the rows for later.
      const deadline = Date.now() + 20_000;
      while ((await outboxRows()).failed === 0) {
        if (Date.now() > deadline) throw new Error('the relay never failed against the paused Redis');
        await sleep(100);
      }
      expect((await outboxRows()).n).toBeGreaterThan(0);
      expect(hook.total()).toBe(0);
      expect(await voiceStatus(voice.voice.id)).toBe('processing');
    } finally {
      redis.resume();
    }
    await expectEachDeliveredOnce([...messages!.map((m) => m.id), voice!.id]);
    expect(await waitForVoice(voice!.voice.id)).toBe('ready');
    expect((await outboxRows()).n).toBe(0);
  });

  it('gives a killed relay’s claimed rows to the next one after the lease', async () => {
    redis.pause();
    let messages: { id: string }[];
    try {
      messages = await Promise.all([1, 2, 3].map((n) => send(`killed ${n}`)));
      const deadline = Date.now() + 20_000;
      while ((await db.query('SELECT 1 FROM outbox WHERE workspace_id = $1 AND attempts > 0', [team.id])).rowCount === 0) {
        if (Date.now() > deadline) throw new Error('the relay never claimed the rows');
        await sleep(50);
      }
      // Killed holding claimed rows (leased, or waiting out a backoff), with its enqueue in flight.
      await worker.crash();
    } finally {
      redis.resume();
    }
    worker = await startServer(workerEnv(), 'worker.js');
    await expectEachDeliveredOnce(messages!.map((m) => m.id));
  });

  it('re-queues the job of a voice still processing when its upload is retried with the same clientMsgId', async () => {
    const clientMsgId = randomUUID();
    const first = await upload(clientMsgId);
    expect(await waitForVoice(first.voice.id)).toBe('ready');
    // Its job is lost (Redis flushed) while the clip is still `processing`, as before the outbox when an enqueue failed.
    redis.cli('FLUSHALL');
    await db.query(`UPDATE voice_clips SET status = 'processing' WHERE id = $1`, [first.voice.id]);
    await sleep(500);
    expect(await voiceStatus(first.voice.id)).toBe('processing');
    const retried = await upload(clientMsgId);
    expect(retried.id).toBe(first.id);
    expect(await waitForVoice(first.voice.id)).toBe('ready');
  });

  it('sweeps a delivery left pending and a voice left processing without a job', async () => {
    const message = await send('swept');
    await expectEachDeliveredOnce([message.id]);
    const voice = await upload();
    expect(await waitForVoice(voice.voice.id)).toBe('ready');
    const [delivery] = await deliveriesOf([message.id]);
    // Both jobs gone and both rows back to where they were stuck, an hour ago.
    redis.cli('FLUSHALL');
    await db.query(
      `UPDATE webhook_deliveries SET status = 'pending', attempts = '[]', updated_at = now() - interval '1 hour' WHERE id = $1`,
      [delivery.id],
    );
    await db.query(`UPDATE voice_clips SET status = 'processing', updated_at = now() - interval '1 hour' WHERE id = $1`, [
      voice.voice.id,
    ]);
    const deadline = Date.now() + 30_000;
    while ((await deliveriesOf([message.id]))[0].status !== 'delivered' || (await voiceStatus(voice.voice.id)) !== 'ready') {
      if (Date.now() > deadline) throw new Error('not swept');
      await sleep(100);
    }
    expect(hook.byDelivery.get(delivery.id)).toBe(2);
  });
});
