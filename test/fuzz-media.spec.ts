import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { Api } from './support/api';
import { createWorkspace, rawSocket, sleep, TestWorkspace } from './support/fixtures';
import { startServer, TestServer } from './support/server';

const FFMPEG: string = createRequire(join(process.cwd(), 'package.json'))('@ffmpeg-installer/ffmpeg').path;

type Ack = { ok: true; data: any } | { ok: false; error: { code: string; message: string } };
const emitAck = (socket: Socket, event: string, payload: unknown, timeoutMs = 8000): Promise<Ack> =>
  socket.timeout(timeoutMs).emitWithAck(event, payload);

/** A small deterministic generator (mulberry32), so a failing case can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Untrusted media (issue 8): malformed containers, truncated files and polyglots, by upload and by
 * live chunks. Each is refused or ends `failed` (a truncated real file may also decode to `ready`),
 * never an error answer or a voice stuck in `processing`, and the worker keeps going.
 */
describe('fuzz: uploads and voice chunks', () => {
  let server: TestServer;
  let worker: TestServer;
  let api: Api;
  let team: TestWorkspace;
  let storageDir: string;
  let workDir: string;
  const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const random = rng(seed);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));

  beforeAll(async () => {
    storageDir = mkdtempSync(join(tmpdir(), 'pigeon-fuzz-media-store-'));
    workDir = mkdtempSync(join(tmpdir(), 'pigeon-fuzz-media-'));
    // Many uploads from one user: the write limit is not what is under test here.
    const env = { VOICE_STORAGE_DIR: storageDir, SEND_RATE_BURST: '100000', SEND_RATE_PER_SECOND: '100000' };
    [server, worker] = await Promise.all([startServer(env), startServer(env, 'worker.js')]);
    api = new Api(server.url);
    team = await createWorkspace(api);
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), worker?.stop()]);
    rmSync(storageDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  const real = (format: 'wav' | 'ogg' | 'mp3', seconds = 2): Buffer => {
    const path = join(workDir, `real-${randomUUID()}.${format}`);
    const codec = format === 'ogg' ? ['-c:a', 'libopus'] : [];
    execFileSync(FFMPEG, ['-v', 'error', '-f', 'lavfi', '-i', `sine=frequency=330:duration=${seconds}`, ...codec, path]);
    return readFileSync(path);
  };
  const upload = async (file: Buffer) => {
    const form = new FormData();
    form.append('clientMsgId', randomUUID());
    form.append('file', new Blob([new Uint8Array(file)]), 'fuzz.bin');
    const response = await fetch(`${server.url}/api/workspaces/${team.id}/channels/${team.generalId}/voice`, {
      method: 'POST',
      headers: { authorization: `Bearer ${team.owner.accessToken}` },
      body: form,
    });
    return { status: response.status, body: (await response.json()) as { code?: string; voice?: { id: string } } };
  };
  const settle = async (voiceId: string) => {
    for (let i = 0; i < 600; i++) {
      const voice = await api.get(`/api/voice/${voiceId}`, team.owner.accessToken);
      if (voice.body.status === 'ready' || voice.body.status === 'failed') return voice.body.status as string;
      await sleep(100);
    }
    return 'stuck';
  };

  it(`ends every malformed, truncated or polyglot upload refused or failed (seed ${seed})`, async () => {
    const headers: [string, Buffer][] = [
      ['webm', Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84, 0x77, 0x65, 0x62, 0x6d])],
      ['ogg', Buffer.from([0x4f, 0x67, 0x67, 0x53, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0])],
      ['mp4', Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypM4A \0\0\0\0isom', 'latin1')])],
      ['wav', Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt ', 'latin1')],
      ['mp3', Buffer.from([0xff, 0xfb, 0x90, 0x64])],
    ];
    const cases: { what: string; file: Buffer; mayBeReady: boolean }[] = [];
    for (const [kind, header] of headers) {
      for (let i = 0; i < 2; i++) cases.push({ what: `${kind} header + garbage`, file: Buffer.concat([header, bytes(200 + Math.floor(random() * 4000))]), mayBeReady: false });
    }
    for (const format of ['wav', 'ogg', 'mp3'] as const) {
      const file = real(format);
      const cut = Math.floor(file.length * (0.2 + 0.6 * random()));
      cases.push({ what: `${format} truncated at ${cut}/${file.length}`, file: file.subarray(0, cut), mayBeReady: true });
      // Flip a run of bytes in the middle: the container is real, its payload is not.
      const flipped = Buffer.from(file);
      const at = Math.floor(flipped.length / 2);
      bytes(64).copy(flipped, at);
      cases.push({ what: `${format} with 64 corrupted bytes`, file: flipped, mayBeReady: true });
    }
    cases.push({ what: 'ID3 tag + HLS playlist', file: Buffer.concat([Buffer.from('ID3\x04\0\0\0\0\0\0', 'latin1'), Buffer.from('#EXTM3U\n/etc/passwd\n')]), mayBeReady: false });
    cases.push({ what: 'WAV header + concat script', file: Buffer.concat([headers[3][1], Buffer.from("ffconcat version 1.0\nfile '/etc/passwd'\n")]), mayBeReady: false });
    cases.push({ what: 'zip after an Ogg page header', file: Buffer.concat([headers[1][1], Buffer.from('PK\x03\x04', 'latin1'), bytes(500)]), mayBeReady: false });
    cases.push({ what: 'pure noise', file: bytes(3000), mayBeReady: false });

    const outcomes: string[] = [];
    for (const c of cases) {
      const answer = await upload(c.file);
      expect([202, 415]).toContain(answer.status);
      if (answer.status === 415) {
        expect(answer.body.code).toBe('VALIDATION');
        outcomes.push(`${c.what}: refused`);
        continue;
      }
      const status = await settle(answer.body.voice!.id);
      outcomes.push(`${c.what}: ${status}`);
      expect(c.mayBeReady ? ['ready', 'failed'] : ['failed']).toContain(status);
    }
    // The worker is still there and well: a real file goes to ready.
    const good = await upload(real('wav', 1));
    expect(good.status).toBe(202);
    expect(await settle(good.body.voice!.id)).toBe('ready');
    expect(outcomes).toHaveLength(cases.length);
  });

  it(`ends live recordings of garbage chunks failed, with contract answers only (seed ${seed})`, async () => {
    const speaker = await rawSocket(server.url, team.owner.accessToken);
    try {
      for (let r = 0; r < 3; r++) {
        const started = await emitAck(speaker, 'voice:start', { channelId: team.generalId, clientMsgId: randomUUID(), mimeType: 'audio/webm;codecs=opus' });
        expect(started.ok).toBe(true);
        if (!started.ok) return;
        const voiceId = started.data.voice.id as string;
        const chunks = 2 + Math.floor(random() * 5);
        for (let index = 0; index < chunks; index++) {
          const data = index === 0 && r === 0 ? Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), bytes(500)]) : bytes(1 + Math.floor(random() * 4000));
          const ack = await emitAck(speaker, 'voice:chunk', { voiceId, index, data });
          expect(ack.ok).toBe(true);
        }
        const ended = await emitAck(speaker, 'voice:end', { voiceId, chunks, durationMs: 1000 });
        expect(ended.ok).toBe(true);
        expect(await settle(voiceId)).toBe('failed');
      }
    } finally {
      speaker.close();
    }
  });
});
