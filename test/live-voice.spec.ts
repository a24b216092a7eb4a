import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { Socket } from 'socket.io-client';
import { Api, registerUser, TestUser } from './support/api';
import { TEST_DATABASE_URL } from './support/env';
import { addMember, createWorkspace, rawSocket, ReadySocket, sleep, TestWorkspace, waitFor } from './support/fixtures';
import { startServer, TestServer } from './support/server';

const FFMPEG: string = createRequire(join(process.cwd(), 'package.json'))('@ffmpeg-installer/ffmpeg').path;
const CHUNK_BYTES = 4096;
const ABANDON_MS = 2000;

type Ack = { ok: true; data: any } | { ok: false; error: { code: string; message: string; details?: unknown } };
const emitAck = (socket: Socket, event: string, payload: unknown, timeoutMs = 8000): Promise<Ack> =>
  socket.timeout(timeoutMs).emitWithAck(event, payload);

interface RelayedChunk {
  voiceId: string;
  messageId: string;
  channelId: string;
  index: number;
  data: Buffer;
}

/** A real 3 s Ogg/Opus recording, cut into 4 KiB chunks the way a MediaRecorder timeslice would. */
function opusRecording(dir: string): { file: Buffer; chunks: Buffer[] } {
  const path = join(dir, `rec-${randomUUID()}.ogg`);
  execFileSync(FFMPEG, [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:duration=3',
    '-c:a',
    'libopus',
    '-f',
    'ogg',
    path,
  ]);
  const file = readFileSync(path);
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < file.length; offset += CHUNK_BYTES)
    chunks.push(file.subarray(offset, offset + CHUNK_BYTES));
  return { file, chunks };
}

/** socket.io-client may hand binary over as a Buffer or an ArrayBuffer. */
const asBuffer = (data: unknown): Buffer =>
  Buffer.isBuffer(data)
    ? data
    : data instanceof ArrayBuffer
      ? Buffer.from(new Uint8Array(data))
      : Buffer.from(data as Uint8Array);

describe('live voice (/rt voice:* and GET /api/voice/:id/audio while recording)', () => {
  let a: TestServer;
  let b: TestServer;
  let worker: TestServer;
  let api: Api;
  let db: Client;
  let team: TestWorkspace;
  let alice: TestUser;
  let bob: TestUser;
  let storageDir: string;
  let workDir: string;
  let recording: { file: Buffer; chunks: Buffer[] };
  const sockets: ReadySocket[] = [];
  const env = () => ({
    VOICE_STORAGE_DIR: storageDir,
    VOICE_ABANDON_MS: String(ABANDON_MS),
    VOICE_MAX_BYTES: String(256 * 1024),
    SEND_RATE_BURST: '100000',
    SEND_RATE_PER_SECOND: '100000',
    // One speaker opens many recordings across these tests; the caps have their own tests (audit.spec).
    OPEN_RECORDINGS_PER_USER_MAX: '100',
    VOICE_CHUNK_BYTES_PER_SECOND: String(64 * 1024 * 1024),
  });
  const open = async (server: TestServer, token: string) => {
    const socket = await rawSocket(server.url, token);
    sockets.push(socket);
    return socket;
  };
  const listen = (socket: Socket, voiceId?: string) => {
    const received: RelayedChunk[] = [];
    socket.on('voice:chunk', (payload: RelayedChunk) => {
      if (!voiceId || payload.voiceId === voiceId) received.push({ ...payload, data: asBuffer(payload.data) });
    });
    return received;
  };
  const start = async (speaker: Socket, clientMsgId = randomUUID()) => {
    const ack = await emitAck(speaker, 'voice:start', {
      channelId: team.generalId,
      clientMsgId,
      mimeType: 'audio/ogg;codecs=opus',
    });
    if (!ack.ok) throw new Error(`voice:start: ${JSON.stringify(ack)}`);
    return ack.data as { id: string; seq: number; voice: { id: string; status: string; mimeType: string } };
  };
  const chunk = (speaker: Socket, voiceId: string, index: number, data: Buffer) =>
    emitAck(speaker, 'voice:chunk', { voiceId, index, data });
  const settled = async (voiceId: string, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await api.get(`/api/voice/${voiceId}`, alice.accessToken);
      if (response.body.status === 'ready' || response.body.status === 'failed') return response.body;
      if (Date.now() > deadline) throw new Error(`voice ${voiceId} still ${response.body.status}`);
      await sleep(200);
    }
  };

  beforeAll(async () => {
    storageDir = mkdtempSync(join(tmpdir(), 'pigeon-live-store-'));
    workDir = mkdtempSync(join(tmpdir(), 'pigeon-live-test-'));
    recording = opusRecording(workDir);
    [a, b, worker] = await Promise.all([startServer(env()), startServer(env()), startServer(env(), 'worker.js')]);
    api = new Api(a.url);
    db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    team = await createWorkspace(api);
    [alice, bob] = await Promise.all([addMember(api, team, 'alice'), addMember(api, team, 'bob')]);
  });
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));
  afterAll(async () => {
    await db?.end();
    await Promise.all([a?.stop(), b?.stop(), worker?.stop()]);
    rmSync(storageDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  it('relays chunks in index order to every listener on every node, never to the speaker, and follows the recording over HTTP', async () => {
    const { file, chunks } = recording;
    expect(chunks.length).toBeGreaterThanOrEqual(5);
    // The speaker on node B, a second device of the speaker and the listeners spread over A and B.
    const speaker = await open(b, team.owner.accessToken);
    const speakerOther = await open(a, team.owner.accessToken);
    const listenerA = await open(a, alice.accessToken);
    const listenerB = await open(b, bob.accessToken);
    const events: { type: string; data: { id: string; voice: { status: string } | null } }[] = [];
    listenerA.on('event', (event: (typeof events)[number]) => events.push(event));

    const clientMsgId = randomUUID();
    const message = await start(speaker, clientMsgId);
    expect(message).toMatchObject({
      kind: 'voice',
      body: '',
      channelId: team.generalId,
      voice: { status: 'recording' },
    });
    const voiceId = message.voice.id;
    // Idempotent like message:send.
    expect((await start(speaker, clientMsgId)).id).toBe(message.id);
    const heardA = listen(listenerA, voiceId);
    const heardB = listen(listenerB, voiceId);
    const heardBySpeaker = listen(speaker);
    const heardBySpeakerOther = listen(speakerOther);

    expect(await chunk(speaker, voiceId, 0, chunks[0])).toEqual({ ok: true, data: { index: 0, duplicate: false } });
    // Chunk 2 before chunk 1: held until 1 arrives.
    expect(await chunk(speaker, voiceId, 2, chunks[2])).toEqual({ ok: true, data: { index: 2, duplicate: false } });
    await waitFor(() => heardA.length === 1 && heardB.length === 1, 5000, 'chunk 0');
    await sleep(200);
    expect(heardA.map((c) => c.index)).toEqual([0]);
    expect(await chunk(speaker, voiceId, 1, chunks[1])).toEqual({ ok: true, data: { index: 1, duplicate: false } });
    await waitFor(() => heardA.length === 3 && heardB.length === 3, 5000, 'chunks 1 and 2');
    // Resent chunks: acked as duplicates, never relayed again.
    expect(await chunk(speaker, voiceId, 1, chunks[1])).toEqual({ ok: true, data: { index: 1, duplicate: true } });
    expect(await chunk(speaker, voiceId, 2, chunks[2])).toEqual({ ok: true, data: { index: 2, duplicate: true } });

    // A listener opens the audio mid-recording, on the other node.
    const audio = await fetch(`${a.url}/api/voice/${voiceId}/audio`, {
      headers: { authorization: `Bearer ${alice.accessToken}` },
    });
    expect(audio.status).toBe(200);
    expect(audio.headers.get('content-type')).toBe('audio/ogg;codecs=opus');
    expect(audio.headers.get('transfer-encoding')).toBe('chunked');
    const body = audio.arrayBuffer().then((bytes) => Buffer.from(bytes));

    for (let index = 3; index < chunks.length; index++) {
      expect(await chunk(speaker, voiceId, index, chunks[index])).toMatchObject({
        ok: true,
        data: { index, duplicate: false },
      });
      await sleep(50);
    }
    await waitFor(() => heardA.length === chunks.length && heardB.length === chunks.length, 5000, 'every chunk');
    for (const heard of [heardA, heardB]) {
      expect(heard.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
      expect(heard.every((c) => c.messageId === message.id && c.channelId === team.generalId)).toBe(true);
      expect(Buffer.concat(heard.map((c) => c.data)).equals(file)).toBe(true);
    }

    const ended = await emitAck(speaker, 'voice:end', { voiceId, chunks: chunks.length, durationMs: 3000 });
    expect(ended).toMatchObject({
      ok: true,
      data: { id: message.id, voice: { id: voiceId, status: 'processing', mimeType: 'audio/ogg' } },
    });
    // The HTTP follower got the whole recording, byte for byte, and its response ended with the recording.
    expect((await body).equals(file)).toBe(true);
    // A second voice:end answers the message again; a chunk after the end is refused.
    const again = await emitAck(speaker, 'voice:end', { voiceId, chunks: chunks.length, durationMs: 3000 });
    expect(again).toMatchObject({ ok: true, data: { id: message.id } });
    expect(await chunk(speaker, voiceId, chunks.length, chunks[0])).toMatchObject({
      ok: false,
      error: { code: 'CONFLICT' },
    });

    const voice = await settled(voiceId);
    expect(voice.status).toBe('ready');
    expect(Math.abs(voice.durationMs - 3000)).toBeLessThanOrEqual(100);
    await waitFor(() => events.filter((e) => e.data.id === message.id).length >= 3, 10_000, 'message events');
    expect(events.filter((e) => e.data.id === message.id).map((e) => `${e.type}:${e.data.voice?.status}`)).toEqual([
      'message.created:recording',
      'message.updated:processing',
      'message.updated:ready',
    ]);
    expect(heardBySpeaker).toHaveLength(0);
    expect(heardBySpeakerOther).toHaveLength(0);
    // Once processing is over the stored renditions are served as before.
    const after = await fetch(`${a.url}/api/voice/${voiceId}/audio?format=opus`, {
      headers: { authorization: `Bearer ${alice.accessToken}` },
    });
    expect(after.headers.get('content-length')).not.toBeNull();
    expect(
      Buffer.from(await after.arrayBuffer())
        .subarray(0, 4)
        .toString('latin1'),
    ).toBe('OggS');
  });

  it('answers bad input with error acks and keeps the socket connected', async () => {
    const speaker = await open(a, team.owner.accessToken);
    const member = await open(a, alice.accessToken);
    const outsider = await registerUser(api, 'outsider');
    const stranger = await open(a, outsider.accessToken);
    const { voice } = await start(speaker);
    const voiceId = voice.id;
    const code = async (socket: Socket, event: string, payload: unknown) => {
      const ack = await emitAck(socket, event, payload);
      return ack.ok ? 'ok' : ack.error.code;
    };
    const okStart = { channelId: team.generalId, clientMsgId: randomUUID(), mimeType: 'audio/webm;codecs=opus' };

    expect(await code(speaker, 'voice:start', { ...okStart, mimeType: 'audio/flac' })).toBe('VALIDATION');
    expect(await code(speaker, 'voice:start', { ...okStart, channelId: 5 })).toBe('VALIDATION');
    expect(await code(speaker, 'voice:start', { ...okStart, extra: true })).toBe('VALIDATION');
    expect(await code(speaker, 'voice:start', 'hello')).toBe('VALIDATION');
    expect(await code(stranger, 'voice:start', okStart)).toBe('NOT_FOUND');
    const text = await emitAck(speaker, 'message:send', {
      channelId: team.generalId,
      clientMsgId: 'used-for-text',
      body: 'hi',
    });
    expect(text.ok).toBe(true);
    expect(await code(speaker, 'voice:start', { ...okStart, clientMsgId: 'used-for-text' })).toBe('CONFLICT');

    const data = Buffer.from('abc');
    expect(await code(speaker, 'voice:chunk', { voiceId, index: -1, data })).toBe('VALIDATION');
    expect(await code(speaker, 'voice:chunk', { voiceId, index: 1.5, data })).toBe('VALIDATION');
    expect(await code(speaker, 'voice:chunk', { voiceId, index: '0', data })).toBe('VALIDATION');
    expect(await code(speaker, 'voice:chunk', { voiceId, index: 0, data: 'abc' })).toBe('VALIDATION');
    expect(await code(speaker, 'voice:chunk', { voiceId, index: 0, data: [97, 98, 99] })).toBe('VALIDATION');
    expect(await code(speaker, 'voice:chunk', { voiceId, index: 0, data: Buffer.alloc(0) })).toBe('VALIDATION');
    expect(await code(speaker, 'voice:chunk', { voiceId, index: 0, data, extra: 1 })).toBe('VALIDATION');
    expect(await code(speaker, 'voice:chunk', { voiceId: 'nope', index: 0, data })).toBe('VALIDATION');
    expect(await code(speaker, 'voice:chunk', { voiceId, index: 0, data: Buffer.alloc(64 * 1024 + 1) })).toBe(
      'PAYLOAD_TOO_LARGE',
    );
    expect(await code(speaker, 'voice:chunk', { voiceId: randomUUID(), index: 0, data })).toBe('NOT_FOUND');
    expect(await code(member, 'voice:chunk', { voiceId, index: 0, data })).toBe('FORBIDDEN');
    expect(await code(stranger, 'voice:chunk', { voiceId, index: 0, data })).toBe('NOT_FOUND');
    expect(await code(member, 'voice:end', { voiceId, chunks: 0, durationMs: 0 })).toBe('FORBIDDEN');
    expect(await code(speaker, 'voice:end', { voiceId, chunks: -1, durationMs: 0 })).toBe('VALIDATION');

    // VOICE_MAX_BYTES (256 KiB here): four full chunks fit, one more byte does not.
    const full = Buffer.alloc(64 * 1024, 1);
    for (let index = 0; index < 4; index++)
      expect(await code(speaker, 'voice:chunk', { voiceId, index, data: full })).toBe('ok');
    expect(await code(speaker, 'voice:chunk', { voiceId, index: 4, data: Buffer.from('x') })).toBe('PAYLOAD_TOO_LARGE');
    // Chunks 0 and 2 arrived, 1 never did: voice:end waits briefly, then names what is missing.
    const gappy = (await start(speaker)).voice.id;
    expect(await code(speaker, 'voice:chunk', { voiceId: gappy, index: 0, data })).toBe('ok');
    expect(await code(speaker, 'voice:chunk', { voiceId: gappy, index: 2, data })).toBe('ok');
    const startedEnd = Date.now();
    const missing = await emitAck(speaker, 'voice:end', { voiceId: gappy, chunks: 3, durationMs: 1000 });
    expect(missing).toMatchObject({ ok: false, error: { code: 'VALIDATION', details: [{ field: 'chunks' }] } });
    expect(Date.now() - startedEnd).toBeGreaterThanOrEqual(1500);

    expect(missing.ok || missing.error.message).toBe('chunk 1 is missing (chunks 0..0 arrived in order)');
    // Ending with nothing sent: failed, not processing.
    const empty = (await start(speaker)).voice.id;
    expect(await emitAck(speaker, 'voice:end', { voiceId: empty, chunks: 0, durationMs: 0 })).toMatchObject({
      ok: true,
      data: { voice: { id: empty, status: 'failed', url: null } },
    });

    expect(await code(speaker, 'voice:listened', { messageId: 'x' })).toBe('VALIDATION');
    expect(await code(speaker, 'voice:listened', { messageId: text.ok && text.data.id })).toBe('NOT_FOUND');
    expect(await code(stranger, 'voice:listened', { messageId: (await start(speaker)).id })).toBe('NOT_FOUND');

    for (const socket of [speaker, member, stranger]) expect(socket.connected).toBe(true);
    expect(
      (
        await emitAck(speaker, 'message:send', {
          channelId: team.generalId,
          clientMsgId: randomUUID(),
          body: 'still here',
        })
      ).ok,
    ).toBe(true);
  });

  it('stores a listen once and tells the channel once', async () => {
    const speaker = await open(a, team.owner.accessToken);
    const listener = await open(b, alice.accessToken);
    const other = await open(a, bob.accessToken);
    const message = await start(speaker);
    const seen: { messageId: string; userId: string }[] = [];
    for (const socket of [speaker, listener, other])
      socket.on('voice:listened', (payload: (typeof seen)[number]) => seen.push(payload));

    expect(await emitAck(listener, 'voice:listened', { messageId: message.id })).toEqual({ ok: true, data: {} });
    await waitFor(() => seen.length === 3, 5000, 'voice:listened to every member socket');
    expect(seen).toEqual(Array(3).fill({ messageId: message.id, userId: alice.id }));
    expect(await emitAck(listener, 'voice:listened', { messageId: message.id })).toEqual({ ok: true, data: {} });
    await sleep(300);
    expect(seen).toHaveLength(3);
    const rows = await db.query('SELECT user_id FROM voice_listens WHERE message_id = $1', [message.id]);
    expect(rows.rows).toEqual([{ user_id: alice.id }]);
  });

  it('finalizes the recording from what arrived when the speaker disconnects', async () => {
    const { chunks } = recording;
    const speaker = await open(b, team.owner.accessToken);
    const { id, voice } = await start(speaker);
    const half = Math.ceil(chunks.length / 2);
    for (let index = 0; index < half; index++)
      expect((await chunk(speaker, voice.id, index, chunks[index])).ok).toBe(true);
    speaker.close();
    const final = await settled(voice.id);
    expect(final).toMatchObject({ messageId: id, status: 'ready' });
    expect(final.durationMs).toBeGreaterThan(0);
    expect(final.durationMs).toBeLessThan(3000);
    const stored = await db.query('SELECT size_bytes FROM voice_clips WHERE id = $1', [voice.id]);
    expect(stored.rows[0].size_bytes).toBe(Buffer.concat(chunks.slice(0, half)).length);
  });

  it('finalizes recordings whose speaker node was killed: the chunks that arrived become the message, no chunks fail it', async () => {
    const { chunks } = recording;
    const doomed = await startServer(env());
    try {
      const speaker = await rawSocket(doomed.url, team.owner.accessToken);
      const listener = await open(a, alice.accessToken);
      const events: { type: string; data: { id: string; voice: { status: string } | null } }[] = [];
      listener.on('event', (event: (typeof events)[number]) => events.push(event));
      const spoken = await start(speaker);
      const silent = await start(speaker);
      const half = Math.ceil(chunks.length / 2);
      for (let index = 0; index < half; index++)
        expect((await chunk(speaker, spoken.voice.id, index, chunks[index])).ok).toBe(true);
      // A follower on a surviving node is released when the recording is finalized there.
      const audio = await fetch(`${a.url}/api/voice/${spoken.voice.id}/audio`, {
        headers: { authorization: `Bearer ${alice.accessToken}` },
      });
      const body = audio.arrayBuffer().then((bytes) => Buffer.from(bytes));
      const killedAt = Date.now();
      await doomed.crash();
      speaker.close();

      const [spokenVoice, silentVoice] = await Promise.all([settled(spoken.voice.id), settled(silent.voice.id)]);
      expect(spokenVoice.status).toBe('ready');
      expect(spokenVoice.durationMs).toBeGreaterThan(0);
      expect(silentVoice).toMatchObject({ status: 'failed', failureReason: 'no audio received', url: null });
      expect((await body).equals(Buffer.concat(chunks.slice(0, half)))).toBe(true);
      // The survivors waited for VOICE_ABANDON_MS of silence before finalizing.
      expect(Date.now() - killedAt).toBeGreaterThanOrEqual(ABANDON_MS - 500);
      await waitFor(
        () => events.filter((e) => e.type === 'message.updated' && e.data.id === spoken.id).length >= 2,
        10_000,
        'updates of the spoken recording',
      );
      expect(events.filter((e) => e.data.id === spoken.id).map((e) => e.data.voice?.status)).toEqual([
        'recording',
        'processing',
        'ready',
      ]);
      expect(events.filter((e) => e.data.id === silent.id).map((e) => e.data.voice?.status)).toEqual([
        'recording',
        'failed',
      ]);
    } finally {
      await doomed.crash();
    }
  });
});
