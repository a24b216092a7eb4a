import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { Client } from 'pg';
import { Api } from './support/api';
import { TEST_DATABASE_URL, TEST_REDIS_PREFIX, TEST_REDIS_URL } from './support/env';
import { createWorkspace, sleep, TestWorkspace, waitFor } from './support/fixtures';
import { startServer, TestServer } from './support/server';

const FFMPEG: string = createRequire(join(process.cwd(), 'package.json'))('@ffmpeg-installer/ffmpeg').path;

/**
 * Runs ffmpeg without blocking the event loop. A synchronous encode (seconds on a loaded machine) would sit
 * between the last API call and the upload: fetch's idle keep-alive socket then outlives the server's
 * keep-alive timeout unnoticed, and the upload is written into a socket the server is closing
 * (fetch failed: EPIPE / ECONNRESET).
 */
const encode = (args: string[]) => promisify(execFile)(FFMPEG, ['-v', 'error', '-y', ...args]);

function uploadVoice(baseUrl: string, team: TestWorkspace, path: string): Promise<Response> {
  const form = new FormData();
  form.append('clientMsgId', randomUUID());
  form.append('file', new Blob([readFileSync(path)], { type: 'audio/ogg' }), 'voice.ogg');
  return fetch(`${baseUrl}/api/workspaces/${team.id}/channels/${team.generalId}/voice`, {
    method: 'POST',
    headers: { authorization: `Bearer ${team.owner.accessToken}` },
    body: form,
  });
}

describe('worker faults', () => {
  let server: TestServer;
  let worker: TestServer;
  let storageDir: string;
  let workDir: string;
  let db: Client;
  let redis: Redis;
  const env = () => ({ VOICE_STORAGE_DIR: storageDir, VOICE_JOB_LOCK_MS: '2000' });

  beforeAll(async () => {
    storageDir = mkdtempSync(join(tmpdir(), 'pigeon-voice-store-'));
    workDir = mkdtempSync(join(tmpdir(), 'pigeon-voice-kill-'));
    // Both fixtures before any request, so no test idles between its API calls and its upload.
    // Four minutes of tone: long enough that the kill lands while ffmpeg is still working.
    await encode(['-f', 'lavfi', '-i', 'sine=frequency=300:duration=240', '-ac', '1', '-c:a', 'libopus', '-b:a', '24k', join(workDir, 'long.ogg')]);
    await encode(['-f', 'lavfi', '-i', 'sine=frequency=500:duration=2', '-ac', '1', '-c:a', 'libopus', join(workDir, 'short.ogg')]);
    server = await startServer(env());
    worker = await startServer(env(), 'worker.js');
    db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    redis = new Redis(TEST_REDIS_URL);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([server.stop(), worker.stop()]);
    await db.end();
    redis.disconnect();
    rmSync(storageDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  it('kill -9 of the worker mid-transcode: the job completes after restart with one ready event', async () => {
    const api = new Api(server.url);
    const team = await createWorkspace(api);
    const response = await uploadVoice(server.url, team, join(workDir, 'long.ogg'));
    expect(response.status).toBe(202);
    const message = (await response.json()) as { id: string; voice: { id: string } };
    const voiceId = message.voice.id;
    watchedVoiceId = voiceId;

    await waitFor(() => activeJobs.includes(voiceId), 20_000, 'the transcode job to start');
    const status = await db.query('SELECT status FROM voice_clips WHERE id = $1', [voiceId]);
    expect(status.rows[0].status).toBe('processing');
    await worker.crash();

    worker = await startServer(env(), 'worker.js');
    await waitFor(() => readyStatus === 'ready', 90_000, 'ready after the restart');
    await sleep(1000);
    const updates = await db.query(
      `SELECT data->'voice'->>'status' AS status FROM channel_events
        WHERE channel_id = $1 AND type = 'message.updated' AND data->>'id' = $2 ORDER BY seq`,
      [team.generalId, message.id],
    );
    expect(updates.rows.map((r: { status: string }) => r.status)).toEqual(['ready']);
    const seqs = await db.query('SELECT seq FROM channel_events WHERE channel_id = $1 ORDER BY seq', [team.generalId]);
    expect(seqs.rows.map((r: { seq: string }) => Number(r.seq))).toEqual(seqs.rows.map((_r: unknown, i: number) => i + 1));
  }, 150_000);

  it('a voice whose job fails every attempt ends failed with one message.updated, not stuck in processing', async () => {
    // A worker whose ffmpeg cannot start: every attempt fails with a retryable error.
    await worker.stop();
    worker = await startServer({ ...env(), FFMPEG_PATH: '/nonexistent/ffmpeg' }, 'worker.js');
    const api = new Api(server.url);
    const team = await createWorkspace(api);
    const response = await uploadVoice(server.url, team, join(workDir, 'short.ogg'));
    expect(response.status).toBe(202);
    const message = (await response.json()) as { id: string; voice: { id: string } };
    watchedVoiceId = message.voice.id;
    await waitFor(() => readyStatus === 'failed', 60_000, 'failed after the last attempt');
    const clip = await db.query('SELECT status, failure_reason FROM voice_clips WHERE id = $1', [message.voice.id]);
    expect(clip.rows[0]).toEqual({ status: 'failed', failure_reason: expect.stringContaining('processing failed') });
    const updates = await db.query(
      `SELECT data->'voice'->>'status' AS status FROM channel_events
        WHERE channel_id = $1 AND type = 'message.updated' AND data->>'id' = $2`,
      [team.generalId, message.id],
    );
    expect(updates.rows.map((r: { status: string }) => r.status)).toEqual(['failed']);
  }, 90_000);

  // Polled state for the waits above: per test, and the status of this test's own clip only, so a previous
  // test's clip (or a poll answered before this test's upload) cannot satisfy a wait.
  let activeJobs: string[] = [];
  let readyStatus = '';
  let watchedVoiceId = '';
  let poller: NodeJS.Timeout;
  beforeEach(() => {
    activeJobs = [];
    readyStatus = '';
    watchedVoiceId = '';
    poller = setInterval(() => {
      void redis.lrange(`${TEST_REDIS_PREFIX}:bull:voice:active`, 0, -1).then((ids) => (activeJobs = ids)).catch(() => undefined);
      const id = watchedVoiceId;
      if (!id) return;
      void db
        .query('SELECT status FROM voice_clips WHERE id = $1', [id])
        .then((r) => {
          if (id === watchedVoiceId) readyStatus = r.rows[0]?.status ?? '';
        })
        .catch(() => undefined);
    }, 50);
  });
  afterEach(() => clearInterval(poller));
});
