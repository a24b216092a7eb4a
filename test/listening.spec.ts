import { execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { Api, registerUser, TestUser } from './support/api';
import { addMember, createWorkspace, rawSocket, ReadySocket, sleep, TestWorkspace, waitFor } from './support/fixtures';
import { startServer, TestServer } from './support/server';

type Ack = { ok: true; data: any } | { ok: false; error: { code: string; message: string } };
const emitAck = (socket: Socket, event: string, payload: unknown, timeoutMs = 10_000): Promise<Ack> =>
  socket.timeout(timeoutMs).emitWithAck(event, payload);

const PROGRESS_INTERVAL_MS = 300;
const FFMPEG: string = createRequire(join(process.cwd(), 'package.json'))('@ffmpeg-installer/ffmpeg').path;

/** Listening progress, listeners, unheard counts and the voice.listened webhook, on two API nodes and a worker. */
describe('listening progress and unheard voice messages', () => {
  let a: TestServer;
  let b: TestServer;
  let worker: TestServer;
  let api: Api;
  let team: TestWorkspace;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let storageDir: string;
  let hook: Server;
  let hookUrl: string;
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const sockets: ReadySocket[] = [];
  const env = () => ({
    VOICE_STORAGE_DIR: storageDir,
    SEND_RATE_BURST: '100000',
    SEND_RATE_PER_SECOND: '100000',
    OPEN_RECORDINGS_PER_USER_MAX: '100',
    PROGRESS_WRITE_INTERVAL_MS: String(PROGRESS_INTERVAL_MS),
    WEBHOOK_BACKOFF_BASE_MS: '50',
    ALLOW_PRIVATE_TARGETS: 'true',
  });
  const open = async (server: TestServer, token: string) => {
    const socket = await rawSocket(server.url, token);
    sockets.push(socket);
    return socket;
  };
  let audio: Buffer;
  /** A live voice message of one chunk: a real second of Ogg/Opus, so the worker makes it `ready`, not `failed`. */
  const record = async (socket: Socket, channelId: string, topicId?: string) => {
    const started = await emitAck(socket, 'voice:start', {
      channelId,
      clientMsgId: randomUUID(),
      mimeType: 'audio/ogg;codecs=opus',
      ...(topicId ? { topicId } : {}),
    });
    if (!started.ok) throw new Error(JSON.stringify(started));
    const voiceId = started.data.voice.id as string;
    expect((await emitAck(socket, 'voice:chunk', { voiceId, index: 0, data: audio })).ok).toBe(true);
    const ended = await emitAck(socket, 'voice:end', { voiceId, chunks: 1, durationMs: 1000 });
    if (!ended.ok) throw new Error(JSON.stringify(ended));
    return { messageId: started.data.id as string, voiceId, seq: started.data.seq as number };
  };
  const listEntry = async (user: TestUser, channelId: string) =>
    (
      (await api.get(`/api/workspaces/${team.id}/channels`, user.accessToken)).body as {
        id: string;
        unheardCount: number;
        unheardTopics: { topicId: string; unheardCount: number }[];
      }[]
    ).find(
      (c) => c.id === channelId,
    )!;
  const unheard = (user: TestUser, channelId: string, query = '') =>
    api.get(`/api/workspaces/${team.id}/channels/${channelId}/messages?unheard=true${query}`, user.accessToken);

  beforeAll(async () => {
    storageDir = mkdtempSync(join(tmpdir(), 'pigeon-listening-store-'));
    const file = join(storageDir, 'second.ogg');
    execFileSync(FFMPEG, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'libopus', '-f', 'ogg', file]);
    audio = readFileSync(file);
    hook = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    [a, b, worker] = await Promise.all([startServer(env()), startServer(env()), startServer(env(), 'worker.js')]);
    api = new Api(a.url);
    team = await createWorkspace(api);
    [alice, bob, carol] = await Promise.all([addMember(api, team, 'alice'), addMember(api, team, 'bob'), addMember(api, team, 'carol')]);
  });
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), worker?.stop()]);
    await new Promise<void>((resolve) => hook.close(() => resolve()));
    rmSync(storageDir, { recursive: true, force: true });
  });

  it('counts unheard voice messages per member in the list and ready, lists them oldest first, and finishing one takes it off', async () => {
    const created = await api.post(
      `/api/workspaces/${team.id}/channels`,
      { name: `unheard-${randomUUID().slice(0, 6)}`, kind: 'public', memberIds: [alice.id, bob.id, carol.id] },
      team.owner.accessToken,
    );
    const channelId = created.body.id as string;
    const speaker = await open(a, alice.accessToken);
    const voices = [await record(speaker, channelId), await record(speaker, channelId), await record(speaker, channelId)];
    // A text message and bob's own voice message do not count for bob.
    await api.post(`/api/workspaces/${team.id}/channels/${channelId}/messages`, { clientMsgId: randomUUID(), body: 'hi' }, bob.accessToken);
    const bobSocket = await open(b, bob.accessToken);
    const own = await record(bobSocket, channelId);

    expect((await listEntry(bob, channelId)).unheardCount).toBe(3);
    expect((await listEntry(alice, channelId)).unheardCount).toBe(1);
    const fresh = await open(a, bob.accessToken);
    const readyEntry = fresh.ready.workspaces
      .find((w: { id: string }) => w.id === team.id)
      .channels.find((c: { id: string }) => c.id === channelId);
    expect(readyEntry.unheardCount).toBe(3);

    const all = await unheard(bob, channelId);
    expect(all.status).toBe(200);
    expect(all.body.messages.map((m: { id: string }) => m.id)).toEqual(voices.map((v) => v.messageId));
    expect(all.body.hasMore).toBe(false);
    const firstPage = await unheard(bob, channelId, '&limit=2');
    expect(firstPage.body.messages.map((m: { id: string }) => m.id)).toEqual(voices.slice(0, 2).map((v) => v.messageId));
    expect(firstPage.body.hasMore).toBe(true);
    const next = await unheard(bob, channelId, `&limit=2&after=${voices[1].seq}`);
    expect(next.body.messages.map((m: { id: string }) => m.id)).toEqual([voices[2].messageId]);
    expect((await unheard(alice, channelId)).body.messages.map((m: { id: string }) => m.id)).toEqual([own.messageId]);
    expect((await unheard(bob, channelId, '&unheard=maybe')).status).toBe(400);

    // Finishing the first: the next unheard is the second. Progress alone does not count as finished.
    expect(await emitAck(bobSocket, 'voice:progress', { messageId: voices[1].messageId, positionMs: 400 })).toEqual({
      ok: true,
      data: { positionMs: 400 },
    });
    expect(await emitAck(bobSocket, 'voice:listened', { messageId: voices[0].messageId })).toEqual({ ok: true, data: {} });
    expect((await listEntry(bob, channelId)).unheardCount).toBe(2);
    expect((await unheard(bob, channelId, '&limit=1')).body.messages[0].id).toBe(voices[1].messageId);
    // A deleted one is no longer unheard either.
    expect((await emitAck(speaker, 'message:delete', { messageId: voices[2].messageId })).ok).toBe(true);
    expect((await listEntry(bob, channelId)).unheardCount).toBe(1);
    // Per topic: in the list, in ready, and ?unheard=true&topicId=.
    const topic = await api.post(`/api/workspaces/${team.id}/channels/${channelId}/topics`, { title: 'standup' }, alice.accessToken);
    expect(topic.status).toBe(201);
    const inTopic = [await record(speaker, channelId, topic.body.id), await record(speaker, channelId, topic.body.id)];
    expect(await listEntry(bob, channelId)).toMatchObject({ unheardCount: 3, unheardTopics: [{ topicId: topic.body.id, unheardCount: 2 }] });
    const later = await open(b, bob.accessToken);
    expect(later.ready.workspaces.find((w: { id: string }) => w.id === team.id).channels.find((c: { id: string }) => c.id === channelId)).toMatchObject({
      unheardCount: 3,
      unheardTopics: [{ topicId: topic.body.id, unheardCount: 2 }],
    });
    const topicPage = await unheard(bob, channelId, `&topicId=${topic.body.id}`);
    expect(topicPage.body.messages.map((m: { id: string }) => m.id)).toEqual(inTopic.map((v) => v.messageId));
    // An outsider learns nothing.
    const outsider = await registerUser(api, 'outsider');
    expect((await unheard(outsider, channelId)).status).toBe(404);
  });

  it('stores progress per listener, never moving back, shows it to the author and admins only, and sends voice.listened once', async () => {
    const webhook = await api.post(`/api/workspaces/${team.id}/webhooks`, { url: hookUrl, events: ['voice.listened'] }, team.owner.accessToken);
    expect(webhook.status).toBe(201);
    const speaker = await open(a, alice.accessToken);
    const voice = await record(speaker, team.generalId);
    const onA = await open(a, bob.accessToken);
    const onB = await open(b, bob.accessToken);
    const carolSocket = await open(b, carol.accessToken);

    const progress = (socket: Socket, positionMs: number) => emitAck(socket, 'voice:progress', { messageId: voice.messageId, positionMs });
    expect(await progress(onA, 1000)).toEqual({ ok: true, data: { positionMs: 1000 } });
    expect(await progress(onA, 500)).toEqual({ ok: true, data: { positionMs: 1000 } });
    expect(await progress(onA, 1500)).toEqual({ ok: true, data: { positionMs: 1500 } });
    await sleep(PROGRESS_INTERVAL_MS * 2);
    // The other node reads what was stored: never back.
    expect(await progress(onB, 1200)).toEqual({ ok: true, data: { positionMs: 1500 } });
    expect(await progress(carolSocket, 300)).toEqual({ ok: true, data: { positionMs: 300 } });
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => progress(onB, 1600 + i * 10)));
    const positions = many.map((m) => (m.ok ? (m.data.positionMs as number) : -1));
    // Handled concurrently: each answer covers its own report and what was stored before, never less.
    expect(positions.filter((p, i) => p < Math.max(1500, 1600 + i * 10))).toEqual([]);
    expect(Math.max(...positions)).toBe(1790);

    const listeners = `/api/voice/${voice.voiceId}/listeners`;
    const byAuthor = await api.get(listeners, alice.accessToken);
    expect(byAuthor.status).toBe(200);
    const rows = byAuthor.body as { userId: string; positionMs: number; listenedAt: string | null }[];
    expect(rows.find((r) => r.userId === bob.id)?.positionMs ?? 0).toBeGreaterThanOrEqual(1500);
    expect(rows.find((r) => r.userId === carol.id)).toEqual({ userId: carol.id, positionMs: 300, listenedAt: null });
    // The last report of the burst is written by the end of the interval.
    await sleep(PROGRESS_INTERVAL_MS * 2);
    expect(((await api.get(listeners, alice.accessToken)).body as typeof rows).find((r) => r.userId === bob.id)?.positionMs).toBe(1790);

    // On node A, which created the webhook (other nodes see a new webhook within 10 s, PROTOCOL decisions).
    expect(await emitAck(onA, 'voice:listened', { messageId: voice.messageId })).toEqual({ ok: true, data: {} });
    expect(await emitAck(onB, 'voice:listened', { messageId: voice.messageId })).toEqual({ ok: true, data: {} });
    const byOwner = await api.get(listeners, team.owner.accessToken);
    expect(byOwner.status).toBe(200);
    const bobRow = (byOwner.body as typeof rows).find((r) => r.userId === bob.id)!;
    expect(bobRow.positionMs).toBe(1790);
    expect(Number.isNaN(Date.parse(bobRow.listenedAt!))).toBe(false);
    expect((await api.get(listeners, carol.accessToken)).body.code).toBe('FORBIDDEN');
    const outsider = await registerUser(api, 'outsider');
    expect((await api.get(listeners, outsider.accessToken)).status).toBe(404);
    expect((await api.get(`/api/voice/${randomUUID()}/listeners`, alice.accessToken)).status).toBe(404);

    // voice.listened: once, with the contract's body and the usual signed headers.
    await waitFor(() => received.some((r) => JSON.parse(r.body).messageId === voice.messageId), 15_000, 'the voice.listened delivery');
    await sleep(500);
    const delivered = received.filter((r) => JSON.parse(r.body).messageId === voice.messageId);
    expect(delivered).toHaveLength(1);
    const body = JSON.parse(delivered[0].body);
    expect(body).toEqual({
      type: 'voice.listened',
      workspaceId: team.id,
      channelId: team.generalId,
      messageId: voice.messageId,
      userId: bob.id,
      at: expect.any(String),
    });
    expect(delivered[0].headers['pigeon-event']).toBe('voice.listened');
    const [t, v1] = String(delivered[0].headers['pigeon-signature']).split(',').map((p) => p.split('=')[1]);
    expect(v1).toBe(createHmac('sha256', webhook.body.secret).update(`${t}.${delivered[0].body}`).digest('hex'));
  });

  it('refuses progress from outsiders (NOT_FOUND) and bad payloads (VALIDATION), keeping the socket', async () => {
    const speaker = await open(a, alice.accessToken);
    const voice = await record(speaker, team.generalId);
    const text = await api.post(`/api/workspaces/${team.id}/channels/${team.generalId}/messages`, { clientMsgId: randomUUID(), body: 'x' }, alice.accessToken);
    const outsider = await registerUser(api, 'stranger');
    await createWorkspace(api, outsider);
    const socket = await open(b, outsider.accessToken);
    expect(await emitAck(socket, 'voice:progress', { messageId: voice.messageId, positionMs: 10 })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    const member = await open(b, carol.accessToken);
    expect(await emitAck(member, 'voice:progress', { messageId: text.body.id, positionMs: 10 })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    for (const payload of [
      { messageId: voice.messageId, positionMs: -1 },
      { messageId: voice.messageId, positionMs: 1.5 },
      { messageId: voice.messageId, positionMs: '10' },
      { messageId: voice.messageId },
      { messageId: 'x', positionMs: 1 },
      { messageId: voice.messageId, positionMs: 1, extra: true },
    ]) {
      expect(await emitAck(member, 'voice:progress', payload)).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    }
    expect(member.connected).toBe(true);
  });
});
