import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobNotFoundError } from '../src/storage/blob-storage';
import { S3BlobStorage } from '../src/storage/s3-blob-storage';
import { Api } from './support/api';
import { createWorkspace, rawSocket, sleep, TestWorkspace } from './support/fixtures';
import { startS3Server, TestS3Server } from './support/s3-server';
import { startServer, TestServer } from './support/server';

const FFMPEG: string = createRequire(join(process.cwd(), 'package.json'))('@ffmpeg-installer/ffmpeg').path;

interface Voice {
  id: string;
  status: string;
  url: string | null;
}

/** STORAGE_DRIVER=s3 end to end: upload, transcode in the worker, play back, delete, all against s3rver. */
describe('voice messages on S3 storage (s3rver on loopback)', () => {
  let s3: TestS3Server;
  let bucket: S3BlobStorage;
  let server: TestServer;
  let worker: TestServer;
  let api: Api;
  let team: TestWorkspace;
  let localDir: string;
  let workDir: string;

  beforeAll(async () => {
    s3 = await startS3Server();
    bucket = new S3BlobStorage({
      bucket: s3.bucket,
      region: 'us-east-1',
      endpoint: s3.endpoint,
      accessKeyId: s3.env.S3_ACCESS_KEY_ID,
      secretAccessKey: s3.env.S3_SECRET_ACCESS_KEY,
      forcePathStyle: true,
    });
    // Set, but never used: with the s3 driver nothing may land on the local disk.
    localDir = mkdtempSync(join(tmpdir(), 'pigeon-voice-s3-local-'));
    workDir = mkdtempSync(join(tmpdir(), 'pigeon-voice-s3-test-'));
    const env = { ...s3.env, VOICE_STORAGE_DIR: localDir, S3_AUDIO_REDIRECT: 'true' };
    [server, worker] = await Promise.all([startServer(env), startServer(env, 'worker.js')]);
    api = new Api(server.url);
    team = await createWorkspace(api);
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), worker?.stop()]);
    bucket?.destroy();
    await s3?.stop();
    rmSync(localDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  it('uploads, transcodes and plays back a voice message from the bucket, then removes its objects with it', async () => {
    const path = join(workDir, 'tone.wav');
    execFileSync(FFMPEG, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2', '-ac', '1', '-ar', '44100', path]);
    const wav = readFileSync(path);
    const form = new FormData();
    form.append('clientMsgId', randomUUID());
    form.append('file', new Blob([new Uint8Array(wav)]), 'tone.wav');
    const auth = { authorization: `Bearer ${team.owner.accessToken}` };
    const response = await fetch(`${server.url}/api/workspaces/${team.id}/channels/${team.generalId}/voice`, {
      method: 'POST',
      headers: auth,
      body: form,
    });
    expect(response.status).toBe(202);
    const uploaded = (await response.json()) as { id: string; voice: Voice };
    const voiceId = uploaded.voice.id;
    const original = `${team.id}/${voiceId}/original`;
    expect((await bucket.readHead(original, wav.length)).equals(wav)).toBe(true);

    let voice: Voice;
    for (let deadline = Date.now() + 90_000; ; await sleep(200)) {
      voice = (await api.get<Voice>(`/api/voice/${voiceId}`, team.owner.accessToken)).body;
      if (voice.status === 'ready' || voice.status === 'failed') break;
      if (Date.now() > deadline) throw new Error(`voice still ${voice.status}`);
    }
    expect(voice.status).toBe('ready');
    const opusKey = `${team.id}/${voiceId}/voice.ogg`;
    const stored = await bucket.size(opusKey);
    expect(stored).toBeGreaterThan(100);

    // Bearer: the API streams from the bucket, Range included.
    const base = `${server.url}/api/voice/${voiceId}/audio`;
    const whole = await fetch(`${base}?format=opus`, { headers: auth });
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toMatch(/^audio\/ogg/);
    const bytes = Buffer.from(await whole.arrayBuffer());
    expect(bytes.length).toBe(stored);
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('OggS');
    const part = await fetch(`${base}?format=opus`, { headers: { ...auth, range: 'bytes=0-0' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 0-0/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(0, 1));
    const middle = await fetch(`${base}?format=opus`, { headers: { ...auth, range: 'bytes=10-99' } });
    expect(Buffer.from(await middle.arrayBuffer())).toEqual(bytes.subarray(10, 100));

    // Signed URL: the member check, then a redirect to a short-lived presigned bucket URL.
    const signed = await fetch(`${server.url}${voice.url}`, { redirect: 'manual' });
    expect(signed.status).toBe(302);
    expect(signed.headers.get('cache-control')).toBe('no-store');
    const location = new URL(signed.headers.get('location')!);
    expect(location.origin).toBe(s3.endpoint);
    expect(Number(location.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(300);
    const direct = await fetch(location, { headers: { range: 'bytes=10-99' } });
    expect(direct.status).toBe(206);
    expect(Buffer.from(await direct.arrayBuffer())).toEqual(bytes.subarray(10, 100));
    // A tampered signed URL never reaches the bucket.
    const tampered = voice.url!.replace(/sig=(.)/, (_match, digit: string) => `sig=${digit === '0' ? '1' : '0'}`);
    expect((await fetch(`${server.url}${tampered}`, { redirect: 'manual' })).status).toBe(401);

    // The AAC rendition is made on its first request, into the bucket, and goes with the message too.
    await expect(bucket.size(`${team.id}/${voiceId}/voice.m4a`)).rejects.toBeInstanceOf(BlobNotFoundError);
    const aac = await fetch(`${base}?format=aac`, { headers: auth });
    expect(aac.status).toBe(200);
    expect(aac.headers.get('content-type')).toBe('audio/mp4');
    expect(await bucket.size(`${team.id}/${voiceId}/voice.m4a`)).toBe((await aac.arrayBuffer()).byteLength);

    expect(readdirSync(localDir)).toEqual([]);

    const deleted = await api.delete(`/api/workspaces/${team.id}/channels/${team.generalId}/messages/${uploaded.id}`, team.owner.accessToken);
    expect(deleted.status).toBe(204);
    // The objects go after the commit (asynchronously): wait for them to be gone.
    for (let i = 0; ; i++) {
      const left = await Promise.all(
        [original, opusKey, `${team.id}/${voiceId}/voice.m4a`].map((key) =>
          bucket.size(key).then(
            () => key,
            (error: unknown) => (error instanceof BlobNotFoundError ? null : Promise.reject(error)),
          ),
        ),
      );
      if (left.every((key) => key === null)) break;
      if (i > 100) throw new Error(`objects left: ${left.join(', ')}`);
      await sleep(100);
    }
    expect((await fetch(`${base}?format=opus`, { headers: auth })).status).toBe(404);
  });
  it('assembles a live recording into one object in the bucket and transcodes it', async () => {
    const path = join(workDir, 'live.ogg');
    execFileSync(FFMPEG, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2', '-c:a', 'libopus', '-f', 'ogg', path]);
    const file = readFileSync(path);
    const chunks: Buffer[] = [];
    for (let at = 0; at < file.length; at += 4096) chunks.push(file.subarray(at, at + 4096));
    const speaker = await rawSocket(server.url, team.owner.accessToken);
    try {
      const start = await speaker
        .timeout(8000)
        .emitWithAck('voice:start', { channelId: team.generalId, clientMsgId: randomUUID(), mimeType: 'audio/ogg' });
      expect(start.ok).toBe(true);
      const voiceId: string = start.data.voice.id;
      for (const [index, data] of chunks.entries()) {
        expect((await speaker.timeout(8000).emitWithAck('voice:chunk', { voiceId, index, data })).ok).toBe(true);
      }
      const end = await speaker.timeout(8000).emitWithAck('voice:end', { voiceId, chunks: chunks.length, durationMs: 2000 });
      expect(end).toMatchObject({ ok: true, data: { voice: { status: 'processing' } } });
      expect((await bucket.readHead(`${team.id}/${voiceId}/original`, file.length + 1)).equals(file)).toBe(true);
      for (let deadline = Date.now() + 90_000; ; await sleep(200)) {
        const voice = (await api.get<Voice>(`/api/voice/${voiceId}`, team.owner.accessToken)).body;
        if (voice.status === 'ready') break;
        if (voice.status === 'failed' || Date.now() > deadline) throw new Error(`voice ${voice.status}`);
      }
      expect(await bucket.size(`${team.id}/${voiceId}/voice.ogg`)).toBeGreaterThan(100);
      expect(readdirSync(localDir)).toEqual([]);
    } finally {
      speaker.close();
    }
  });
});
