import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Api, registerUser } from './support/api';
import { createWorkspace, sleep, TestWorkspace } from './support/fixtures';
import { startServer, TestServer } from './support/server';

const FFMPEG: string = createRequire(join(process.cwd(), 'package.json'))('@ffmpeg-installer/ffmpeg').path;

/** A 3 s 440 Hz tone that fades in, so its waveform is not flat. */
function toneWav(dir: string): Buffer {
  const path = join(dir, `tone-${randomUUID()}.wav`);
  execFileSync(FFMPEG, [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:duration=3',
    '-af',
    "volume='t/3':eval=frame",
    '-ac',
    '1',
    '-ar',
    '44100',
    path,
  ]);
  return readFileSync(path);
}

/** A 3 s tone at a fixed level (a factor on lavfi's sine), for loudness checks. */
function levelWav(dir: string, level: number): Buffer {
  const path = join(dir, `level-${randomUUID()}.wav`);
  execFileSync(FFMPEG, ['-v', 'error', '-f', 'lavfi', '-i', `sine=frequency=440:duration=3,volume=${level}`, '-ac', '1', '-ar', '44100', path]);
  return readFileSync(path);
}

/** Integrated loudness (LUFS) and sample peak (dBFS) of audio bytes, as ffmpeg's decoder plays them. */
function loudnessOf(bytes: Buffer, dir: string): { lufs: number; peak: number } {
  const path = join(dir, `measure-${randomUUID()}`);
  writeFileSync(path, bytes);
  const run = spawnSync(process.env.FFMPEG_PATH ?? FFMPEG, ['-hide_banner', '-nostats', '-i', path, '-af', 'ebur128=peak=sample:framelog=verbose', '-f', 'null', '-'], {
    encoding: 'utf8',
  });
  const summary = run.stderr.slice(run.stderr.lastIndexOf('Summary:'));
  const lufs = Number(/I:\s+(-?[\d.]+) LUFS/.exec(summary)?.[1]);
  const peak = Number(/Peak:\s+(-?[\d.]+) dBFS/.exec(summary)?.[1]);
  if (!Number.isFinite(lufs) || !Number.isFinite(peak)) throw new Error(`no loudness summary: ${run.stderr.slice(-400)}`);
  return { lufs, peak };
}

/** The 202 answer of an upload: the message with its voice. */
interface UploadedMessage {
  id: string;
  seq: number;
  voice: { id: string; status: string };
  [field: string]: unknown;
}

interface Voice {
  id: string;
  status: string;
  mimeType: string | null;
  durationMs: number | null;
  waveform: number[] | null;
  url: string | null;
  messageId: string;
  channelId: string;
}

describe('voice messages (recorded)', () => {
  let server: TestServer;
  let worker: TestServer;
  let api: Api;
  let team: TestWorkspace;
  let storageDir: string;
  let workDir: string;

  beforeAll(async () => {
    storageDir = mkdtempSync(join(tmpdir(), 'pigeon-voice-store-'));
    workDir = mkdtempSync(join(tmpdir(), 'pigeon-voice-test-'));
    const env = { VOICE_STORAGE_DIR: storageDir, VOICE_MAX_BYTES: String(1024 * 1024) };
    [server, worker] = await Promise.all([startServer(env), startServer(env, 'worker.js')]);
    api = new Api(server.url);
    team = await createWorkspace(api);
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), worker?.stop()]);
    rmSync(storageDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  const upload = async (bytes: Buffer, filename = 'clip.bin', clientMsgId = randomUUID()) => {
    const form = new FormData();
    form.append('clientMsgId', clientMsgId);
    form.append('file', new Blob([new Uint8Array(bytes)]), filename);
    const response = await fetch(`${server.url}/api/workspaces/${team.id}/channels/${team.generalId}/voice`, {
      method: 'POST',
      headers: { authorization: `Bearer ${team.owner.accessToken}` },
      body: form,
    });
    return { status: response.status, body: (await response.json()) as UploadedMessage };
  };
  const settled = async (voiceId: string, timeoutMs = 90_000): Promise<Voice> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await api.get<Voice>(`/api/voice/${voiceId}`, team.owner.accessToken);
      expect(response.status).toBe(200);
      if (response.body.status === 'ready' || response.body.status === 'failed') return response.body;
      if (Date.now() > deadline) throw new Error(`voice ${voiceId} still ${response.body.status}`);
      await sleep(200);
    }
  };

  it('transcodes an upload to ready with its duration and a waveform, announced as message.updated', async () => {
    const uploaded = await upload(toneWav(workDir), 'tone.wav');
    expect(uploaded.status).toBe(202);
    expect(uploaded.body).toMatchObject({
      kind: 'voice',
      body: '',
      channelId: team.generalId,
      voice: { status: 'processing', mimeType: 'audio/wav' },
    });
    const voice = await settled(uploaded.body.voice.id);
    expect(voice.status).toBe('ready');
    expect(voice.messageId).toBe(uploaded.body.id);
    expect(voice.channelId).toBe(team.generalId);
    expect(Math.abs(voice.durationMs! - 3000)).toBeLessThanOrEqual(100);
    expect(voice.waveform).toHaveLength(64);
    expect(voice.waveform!.every((v) => Number.isInteger(v) && v >= 0 && v <= 100)).toBe(true);
    expect(new Set(voice.waveform).size).toBeGreaterThan(10);
    expect(voice.waveform![63]).toBeGreaterThan(voice.waveform![1]);

    type Event = { seq: number; type: string; data: { id: string; voice: Voice | null } };
    // The clip row turns ready just before its message.updated is appended: wait for the event.
    let events: { body: { events: Event[] } } = { body: { events: [] } };
    let ours: Event[] = [];
    for (let i = 0; i < 100 && ours.at(-1)?.data.voice?.status !== 'ready'; i++) {
      if (i > 0) await sleep(100);
      events = await api.get(
        `/api/workspaces/${team.id}/channels/${team.generalId}/events?after=${uploaded.body.seq - 1}`,
        team.owner.accessToken,
      );
      ours = events.body.events.filter((e) => e.data.id === uploaded.body.id);
    }
    expect(ours[0].type).toBe('message.created');
    expect(ours.at(-1)).toMatchObject({
      type: 'message.updated',
      data: { voice: { status: 'ready', durationMs: voice.durationMs } },
    });
    const seqs = (events.body.events as { seq: number }[]).map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i));
  });

  it('serves the renditions with Range support, by bearer token or signed URL', async () => {
    const uploaded = await upload(toneWav(workDir), 'tone.wav');
    const voice = await settled(uploaded.body.voice.id);
    const base = `${server.url}/api/voice/${voice.id}/audio`;
    const auth = { authorization: `Bearer ${team.owner.accessToken}` };

    const whole = await fetch(`${base}?format=opus`, { headers: auth });
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toMatch(/^audio\/ogg/);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    const bytes = Buffer.from(await whole.arrayBuffer());
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('OggS');

    const part = await fetch(`${base}?format=opus`, { headers: { ...auth, range: 'bytes=10-99' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-99/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(10, 100));

    const tail = await fetch(`${base}?format=opus`, { headers: { ...auth, range: 'bytes=-16' } });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(bytes.subarray(bytes.length - 16));

    const beyond = await fetch(`${base}?format=opus`, { headers: { ...auth, range: `bytes=${bytes.length}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${bytes.length}`);

    const aac = await fetch(`${base}?format=aac`, { headers: auth });
    expect(aac.status).toBe(200);
    expect(aac.headers.get('content-type')).toBe('audio/mp4');
    expect(
      Buffer.from(await aac.arrayBuffer())
        .subarray(4, 8)
        .toString('latin1'),
    ).toBe('ftyp');

    // The signed voice.url works without a header, for <audio src>; a tampered one does not.
    const signed = await fetch(`${server.url}${voice.url}`);
    expect(signed.status).toBe(200);
    expect(Buffer.from(await signed.arrayBuffer())).toEqual(bytes);
    // Tampered: the signature's first digit changed (to another digit, always: a '0' becomes '1').
    const tampered = voice.url!.replace(/sig=(.)/, (_match, digit: string) => `sig=${digit === '0' ? '1' : '0'}`);
    expect((await fetch(`${server.url}${tampered}`)).status).toBe(401);
    expect((await fetch(base)).status).toBe(401);
  });

  it('is ready with Opus at the target loudness; AAC is made on its first request and kept', async () => {
    const auth = { authorization: `Bearer ${team.owner.accessToken}` };
    // lavfi's sine is at 1/8 of full scale: 0.1 makes -36 dBFS peaks, 8 full scale.
    for (const level of [0.1, 8]) {
      const before = loudnessOf(levelWav(workDir, level), workDir);
      const voice = await settled((await upload(levelWav(workDir, level), 'level.wav')).body.voice.id);
      expect(voice.status).toBe('ready');
      const base = `${server.url}/api/voice/${voice.id}/audio`;
      const opus = loudnessOf(Buffer.from(await (await fetch(`${base}?format=opus`, { headers: auth })).arrayBuffer()), workDir);
      // A quiet clip is lifted and a loud one lowered to -16 LUFS, with no sample above -1.5 dBFS.
      expect(Math.abs(before.lufs + 16)).toBeGreaterThan(8);
      expect(opus.lufs).toBeGreaterThan(-17.5);
      expect(opus.lufs).toBeLessThan(-14.5);
      expect(opus.peak).toBeLessThanOrEqual(-1.4);

      const aacFile = join(storageDir, team.id, voice.id, 'voice.m4a');
      expect(existsSync(aacFile)).toBe(false);
      const [first, concurrent] = await Promise.all([
        fetch(`${base}?format=aac`, { headers: auth }),
        fetch(`${base}?format=aac`, { headers: auth }),
      ]);
      expect([first.status, concurrent.status]).toEqual([200, 200]);
      const aacBytes = Buffer.from(await first.arrayBuffer());
      expect(Buffer.from(await concurrent.arrayBuffer())).toEqual(aacBytes);
      expect(aacBytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
      const madeAt = statSync(aacFile).mtimeMs;
      const again = await fetch(`${base}?format=aac`, { headers: { ...auth, range: 'bytes=0-99' } });
      expect(again.status).toBe(206);
      expect(Buffer.from(await again.arrayBuffer())).toEqual(aacBytes.subarray(0, 100));
      expect(statSync(aacFile).mtimeMs).toBe(madeAt);
      // Made from the normalised Opus: the same loudness.
      expect(Math.abs(loudnessOf(aacBytes, workDir).lufs - opus.lufs)).toBeLessThan(1);
    }
  });

  it('answers 404 to anyone outside the channel', async () => {
    const uploaded = await upload(toneWav(workDir), 'tone.wav');
    const stranger = await registerUser(api, 'stranger');
    const seen = await api.get(`/api/voice/${uploaded.body.voice.id}`, stranger.accessToken);
    expect(seen.status).toBe(404);
    expect(seen.body.code).toBe('NOT_FOUND');
    const audio = await fetch(`${server.url}/api/voice/${uploaded.body.voice.id}/audio`, {
      headers: { authorization: `Bearer ${stranger.accessToken}` },
    });
    expect(audio.status).toBe(404);
    await settled(uploaded.body.voice.id);
  });

  it('refuses a text file with 415 VALIDATION and an oversized one with 413', async () => {
    const text = await upload(Buffer.from('just some text, not audio at all\n'.repeat(10)), 'notes.webm');
    expect(text.status).toBe(415);
    expect(text.body).toMatchObject({ statusCode: 415, code: 'VALIDATION' });
    const large = await upload(Buffer.concat([Buffer.from('OggS'), Buffer.alloc(1024 * 1024 + 10)]), 'big.ogg');
    expect(large.status).toBe(413);
    expect(large.body.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('marks a corrupt file with a valid header failed, and the worker goes on with the next job', async () => {
    const corrupt = Buffer.concat([
      Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt ', 'latin1'),
      Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 7919) % 256)),
    ]);
    const bad = await upload(corrupt, 'broken.wav');
    expect(bad.status).toBe(202);
    const good = await upload(toneWav(workDir), 'tone.wav');
    expect(good.status).toBe(202);
    const failed = await settled(bad.body.voice.id);
    expect(failed).toMatchObject({ status: 'failed', url: null });
    expect((await settled(good.body.voice.id)).status).toBe('ready');
  });

  it('returns the first message for a retried upload with the same clientMsgId', async () => {
    const clientMsgId = randomUUID();
    const wav = toneWav(workDir);
    const first = await upload(wav, 'tone.wav', clientMsgId);
    const again = await upload(wav, 'tone.wav', clientMsgId);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.voice.id).toBe(first.body.voice.id);
    await settled(first.body.voice.id);
  });

  describe('untrusted containers (audit: ffmpeg made to read another clip)', () => {
    const id3 = Buffer.from([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0]);
    const playlist = (target: string) => `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n${target}\n#EXT-X-ENDLIST\n`;

    it.each([
      ['a plain path', (path: string) => path],
      ['a file: URL', (path: string) => `file:${path}`],
      ['a concat: URL', (path: string) => `concat:${path}|${path}`],
    ])('refuses an ID3 tag in front of a playlist naming another clip by %s', async (_how, target) => {
      const victim = await upload(toneWav(workDir), 'tone.wav');
      await settled(victim.body.voice.id);
      const victimFile = join(storageDir, team.id, victim.body.voice.id, 'original');
      const attack = await upload(Buffer.concat([id3, Buffer.from(playlist(target(victimFile)))]), 'song.mp3');
      expect(attack.status).toBe(415);
      expect(attack.body).toMatchObject({ code: 'VALIDATION' });
    });

    it.each([
      ['Ogg', Buffer.from([0x4f, 0x67, 0x67, 0x53, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0])],
      ['WAV', Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt ', 'latin1')],
      ['MP3 frame', Buffer.from([0xff, 0xfb, 0x90, 0x64, 0, 0, 0, 0])],
    ])('a %s header in front of a playlist ends failed, never ready with the other clip', async (_kind, header) => {
      const victim = await upload(toneWav(workDir), 'tone.wav');
      await settled(victim.body.voice.id);
      const victimFile = join(storageDir, team.id, victim.body.voice.id, 'original');
      const polyglot = await upload(Buffer.concat([header, Buffer.from(playlist(victimFile))]), 'clip.bin');
      expect(polyglot.status).toBe(202);
      const voice = await settled(polyglot.body.voice.id);
      expect(voice).toMatchObject({ status: 'failed', url: null });
    });
  });
});
