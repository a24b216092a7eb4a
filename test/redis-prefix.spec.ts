import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Api } from './support/api';
import { TEST_REDIS_PREFIX } from './support/env';
import { createWorkspace, rawSocket, sleep } from './support/fixtures';
import { startServer, TestServer } from './support/server';

const FFMPEG: string = createRequire(join(process.cwd(), 'package.json'))('@ffmpeg-installer/ffmpeg').path;

/**
 * Two deployments on one Redis (issue 14: one took the other's voice and webhook jobs). Each has its
 * own REDIS_PREFIX; they share the test database only so one workspace can be watched from both.
 */
describe('REDIS_PREFIX isolates deployments that share a Redis', () => {
  const servers: TestServer[] = [];
  let storageDir: string;

  beforeAll(() => {
    storageDir = mkdtempSync(join(tmpdir(), 'pigeon-prefix-'));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(storageDir, { recursive: true, force: true });
  });

  const start = async (prefix: string, entry = 'main.js') => {
    const server = await startServer({ REDIS_PREFIX: prefix, VOICE_STORAGE_DIR: storageDir }, entry);
    servers.push(server);
    return server;
  };

  it('keeps jobs and live events apart', async () => {
    const [first, second] = [`${TEST_REDIS_PREFIX}-one`, `${TEST_REDIS_PREFIX}-two`];
    const apiOne = await start(first);
    await start(first, 'worker.js');
    const apiTwo = await start(second);
    const api = new Api(apiOne.url);
    const team = await createWorkspace(api);

    // Live events: a socket on deployment one hears its own sends, not deployment two's.
    const listener = await rawSocket(apiOne.url, team.owner.accessToken);
    const heard: string[] = [];
    listener.on('event', (event: { data: { body?: string } }) => heard.push(event.data.body ?? ''));
    try {
      const path = `/api/workspaces/${team.id}/channels/${team.generalId}/messages`;
      expect((await new Api(apiTwo.url).post(path, { clientMsgId: randomUUID(), body: 'from two' }, team.owner.accessToken)).status).toBe(201);
      expect((await api.post(path, { clientMsgId: randomUUID(), body: 'from one' }, team.owner.accessToken)).status).toBe(201);
      for (let i = 0; i < 100 && !heard.includes('from one'); i++) await sleep(20);
      expect(heard).toContain('from one');
      expect(heard).not.toContain('from two');
    } finally {
      listener.close();
    }

    // Jobs: deployment one's worker never takes deployment two's voice job.
    const wav = join(storageDir, 'tone.wav');
    execFileSync(FFMPEG, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-ac', '1', wav]);
    const form = new FormData();
    form.append('clientMsgId', randomUUID());
    form.append('file', new Blob([new Uint8Array(readFileSync(wav))]), 'tone.wav');
    const uploaded = await fetch(`${apiTwo.url}/api/workspaces/${team.id}/channels/${team.generalId}/voice`, {
      method: 'POST',
      headers: { authorization: `Bearer ${team.owner.accessToken}` },
      body: form,
    });
    expect(uploaded.status).toBe(202);
    const voiceId = ((await uploaded.json()) as { voice: { id: string } }).voice.id;
    const status = async () => (await api.get(`/api/voice/${voiceId}`, team.owner.accessToken)).body.status as string;
    await sleep(3000);
    expect(await status()).toBe('processing');
    // Its own worker does.
    await start(second, 'worker.js');
    let now = await status();
    for (let i = 0; i < 150 && now === 'processing'; i++) {
      await sleep(100);
      now = await status();
    }
    expect(now).toBe('ready');
  });
});
