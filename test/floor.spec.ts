import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { Socket } from 'socket.io-client';
import { Api, registerUser, TestUser } from './support/api';
import { TEST_DATABASE_URL } from './support/env';
import { addMember, createWorkspace, rawSocket, ReadySocket, sleep, TestWorkspace, waitFor } from './support/fixtures';
import { startServer, TestServer } from './support/server';

type Ack = { ok: true; data: any } | { ok: false; error: { code: string; message: string } };
const emitAck = (socket: Socket, event: string, payload: unknown, timeoutMs = 10_000): Promise<Ack> =>
  socket.timeout(timeoutMs).emitWithAck(event, payload);

interface FloorEvent {
  workspaceId: string;
  channelId: string;
  holder: string | null;
  since: string | null;
  expiresAt: string | null;
  queue: string[];
  rev: number;
}

const LEASE_MS = 3000;
const SHORT_TALK_MS = 1500;

/** Push-to-talk floor control across three API nodes (plus one to kill and one with a short talk time). */
describe('push-to-talk floor (floor:request / floor:release, three nodes)', () => {
  let nodes: TestServer[];
  let api: Api;
  let db: Client;
  let team: TestWorkspace;
  let storageDir: string;
  const sockets: ReadySocket[] = [];
  const env = (extra: Record<string, string> = {}) => ({
    VOICE_STORAGE_DIR: storageDir,
    SEND_RATE_BURST: '100000',
    SEND_RATE_PER_SECOND: '100000',
    OPEN_RECORDINGS_PER_USER_MAX: '100',
    FLOOR_LEASE_MS: String(LEASE_MS),
    ...extra,
  });
  const open = async (server: TestServer, token: string) => {
    const socket = await rawSocket(server.url, token);
    sockets.push(socket);
    return socket;
  };
  const floorEvents = (socket: Socket, channelId: string) => {
    const events: FloorEvent[] = [];
    socket.on('floor', (event: FloorEvent) => event.channelId === channelId && events.push(event));
    return events;
  };
  /** The newest state a client knows: the highest rev (events from different nodes may cross). */
  const latest = (events: FloorEvent[]) => events.reduce<FloorEvent | undefined>((a, b) => (!a || b.rev > a.rev ? b : a), undefined);
  const pttChannel = async (name: string, members: TestUser[]) => {
    const created = await api.post(
      `/api/workspaces/${team.id}/channels`,
      { name: `${name}-${randomUUID().slice(0, 6)}`, kind: 'public', memberIds: members.map((m) => m.id) },
      team.owner.accessToken,
    );
    expect(created.status).toBe(201);
    expect(created.body.mode).toBe('chat');
    const patched = await api.patch(`/api/workspaces/${team.id}/channels/${created.body.id}`, { mode: 'ptt' }, team.owner.accessToken);
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: created.body.id, mode: 'ptt' });
    return created.body.id as string;
  };
  const start = (socket: Socket, channelId: string) =>
    emitAck(socket, 'voice:start', { channelId, clientMsgId: randomUUID(), mimeType: 'audio/ogg;codecs=opus' });
  const clipStatus = async (voiceId: string) =>
    (await db.query('SELECT status FROM voice_clips WHERE id = $1', [voiceId])).rows[0]?.status as string | undefined;

  beforeAll(async () => {
    storageDir = mkdtempSync(join(tmpdir(), 'pigeon-floor-store-'));
    nodes = await Promise.all([startServer(env()), startServer(env()), startServer(env())]);
    api = new Api(nodes[0].url);
    db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    team = await createWorkspace(api);
  });
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));
  afterAll(async () => {
    await db?.end();
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    rmSync(storageDir, { recursive: true, force: true });
  });

  it('sets the mode (owners/admins only) in the channel, its list entry, ready and channel.updated', async () => {
    const member = await addMember(api, team, 'mode-member');
    const outsider = await registerUser(api, 'mode-outsider');
    const channelId = await pttChannel('mode', [member]);
    const list = await api.get(`/api/workspaces/${team.id}/channels`, member.accessToken);
    expect(list.body.find((c: { id: string }) => c.id === channelId)).toMatchObject({ mode: 'ptt', unheardCount: 0, unheardTopics: [] });
    const socket = await open(nodes[1], member.accessToken);
    const readyChannel = socket.ready.workspaces
      .find((w: { id: string }) => w.id === team.id)
      .channels.find((c: { id: string }) => c.id === channelId);
    expect(readyChannel).toEqual({ id: channelId, headSeq: expect.any(Number), lastReadSeq: 0, mode: 'ptt', unheardCount: 0, unheardTopics: [] });
    const events: { type: string; data: { mode: string; headSeq: number }; seq: number }[] = [];
    socket.on('event', (e: (typeof events)[number]) => e.type === 'channel.updated' && events.push(e));
    const back = await api.patch(`/api/workspaces/${team.id}/channels/${channelId}`, { mode: 'chat' }, team.owner.accessToken);
    expect(back.body.mode).toBe('chat');
    await waitFor(() => events.length === 1, 5000, 'channel.updated');
    expect(events[0].data).toMatchObject({ id: channelId, mode: 'chat' });
    expect(events[0].data.headSeq).toBe(events[0].seq);
    const path = `/api/workspaces/${team.id}/channels/${channelId}`;
    expect((await api.patch(path, { mode: 'ptt' }, member.accessToken)).body.code).toBe('FORBIDDEN');
    expect((await api.patch(path, { mode: 'ptt' }, outsider.accessToken)).status).toBe(404);
    expect((await api.patch(path, { mode: 'loud' }, team.owner.accessToken)).body.code).toBe('VALIDATION');
    expect((await api.patch(path, { mode: 'ptt', name: 'x' }, team.owner.accessToken)).body.code).toBe('VALIDATION');
  });

  it('ten users request at once on three nodes: one holder at a time, every request answered, the queue kept in order, no two recordings overlap', async () => {
    const users = await Promise.all(Array.from({ length: 10 }, (_, i) => addMember(api, team, `talker${i}`)));
    const channelId = await pttChannel('ten', users);
    const observer = await open(nodes[0], team.owner.accessToken);
    const seen = floorEvents(observer, channelId);
    const relayed: string[] = [];
    observer.on('voice:chunk', (chunk: { voiceId: string; channelId: string }) => chunk.channelId === channelId && relayed.push(chunk.voiceId));
    const talkers = await Promise.all(users.map((u, i) => open(nodes[i % 3], u.accessToken)));

    const acks = await Promise.all(talkers.map((s) => emitAck(s, 'floor:request', { channelId })));
    expect(acks.every((a) => a.ok)).toBe(true);
    const answers = acks.map((a) => (a.ok ? a.data : null)) as { state: string; position?: number }[];
    const granted = answers.filter((a) => a.state === 'granted');
    expect(granted).toHaveLength(1);
    expect(granted[0]).toEqual({ state: 'granted' });
    const positions = answers.filter((a) => a.state === 'queued').map((a) => a.position);
    expect([...positions].sort((x, y) => x! - y!)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // The order the floor must pass in: the granted one, then by position.
    const order = answers
      .map((a, i) => ({ i, rank: a.state === 'granted' ? 0 : a.position! }))
      .sort((x, y) => x.rank - y.rank)
      .map((x) => x.i);
    await waitFor(() => latest(seen)?.queue.length === 9, 5000, 'the queue in a floor event');
    expect(latest(seen)!.queue).toEqual(order.slice(1).map((i) => users[i].id));

    const voiceIds: string[] = [];
    for (let turn = 0; turn < order.length; turn++) {
      const i = order[turn];
      await waitFor(() => latest(seen)?.holder === users[i].id, 10_000, `turn ${turn}`);
      // The one after cannot start while this one holds the floor.
      if (turn + 1 < order.length) {
        const early = await start(talkers[order[turn + 1]], channelId);
        expect(early).toMatchObject({ ok: false, error: { code: 'FLOOR_NOT_HELD' } });
      }
      const started = await start(talkers[i], channelId);
      expect(started.ok).toBe(true);
      const voiceId = (started as { data: { voice: { id: string } } }).data.voice.id;
      voiceIds.push(voiceId);
      for (let index = 0; index < 3; index++) {
        const chunk = await emitAck(talkers[i], 'voice:chunk', { voiceId, index, data: Buffer.from(`turn ${turn} chunk ${index}`) });
        expect(chunk).toEqual({ ok: true, data: { index, duplicate: false } });
      }
      const ended = await emitAck(talkers[i], 'voice:end', { voiceId, chunks: 3, durationMs: 500 });
      expect(ended).toMatchObject({ ok: true, data: { voice: { status: 'processing' } } });
    }
    await waitFor(() => latest(seen)?.holder === null, 5000, 'the floor idle at the end');
    expect(latest(seen)).toMatchObject({ holder: null, since: null, expiresAt: null, queue: [] });

    // Every change was announced once, in rev order the holders are exactly the queue order.
    const byRev = [...new Map(seen.map((e) => [e.rev, e])).values()].sort((x, y) => x.rev - y.rev);
    const holders = byRev.map((e) => e.holder).filter((h, n, all) => h !== null && h !== all[n - 1]);
    expect(holders).toEqual(order.map((i) => users[i].id));
    for (const e of byRev.filter((x) => x.holder)) {
      expect(new Date(e.expiresAt!).getTime() - new Date(e.since!).getTime()).toBe(60_000);
    }
    // Relayed chunks come one recording after the other, never interleaved.
    await waitFor(() => relayed.length === 30, 5000, 'every relayed chunk');
    const runs = relayed.filter((v, n) => v !== relayed[n - 1]);
    expect(runs).toEqual(voiceIds);
    // In the database, each recording ended before the next one began.
    const clips = (
      await db.query(
        `SELECT id, created_at, updated_at FROM voice_clips WHERE id = ANY($1::uuid[]) ORDER BY created_at`,
        [voiceIds],
      )
    ).rows as { id: string; created_at: Date; updated_at: Date }[];
    expect(clips.map((c) => c.id)).toEqual(voiceIds);
    for (let n = 1; n < clips.length; n++) expect(clips[n].created_at.getTime()).toBeGreaterThanOrEqual(clips[n - 1].updated_at.getTime());
  });

  it('kill -9 of the holder\'s node frees the floor within the lease and grants the next in the queue', async () => {
    const [holder, next] = await Promise.all([addMember(api, team, 'doomed'), addMember(api, team, 'next')]);
    const channelId = await pttChannel('kill', [holder, next]);
    const doomedNode = await startServer(env());
    try {
      const doomed = await rawSocket(doomedNode.url, holder.accessToken);
      const waiting = await open(nodes[1], next.accessToken);
      const seen = floorEvents(waiting, channelId);
      expect(await emitAck(doomed, 'floor:request', { channelId })).toEqual({ ok: true, data: { state: 'granted' } });
      expect(await emitAck(waiting, 'floor:request', { channelId })).toEqual({ ok: true, data: { state: 'queued', position: 1 } });
      // Held past the lease while its node lives: the node renews it.
      await sleep(LEASE_MS * 1.5);
      expect(latest(seen)?.holder).toBe(holder.id);
      const killedAt = Date.now();
      await doomedNode.crash();
      await waitFor(() => latest(seen)?.holder === next.id, LEASE_MS * 4, 'the next one granted after the crash');
      // Within the lease (plus a sweep), not the talk time.
      expect(Date.now() - killedAt).toBeLessThan(LEASE_MS * 4);
      expect(latest(seen)!.queue).toEqual([]);
      const started = await start(waiting, channelId);
      expect(started.ok).toBe(true);
    } finally {
      await doomedNode.crash();
    }
  });

  it('refuses chunks from anyone but the holder (FLOOR_NOT_HELD) and never relays them', async () => {
    const [speaker, listener] = await Promise.all([addMember(api, team, 'early'), addMember(api, team, 'ear')]);
    const created = await api.post(
      `/api/workspaces/${team.id}/channels`,
      { name: `chunks-${randomUUID().slice(0, 6)}`, kind: 'public', memberIds: [speaker.id, listener.id] },
      team.owner.accessToken,
    );
    const channelId = created.body.id as string;
    const talker = await open(nodes[0], speaker.accessToken);
    const ear = await open(nodes[2], listener.accessToken);
    const relayed: unknown[] = [];
    ear.on('voice:chunk', (c: { channelId: string }) => c.channelId === channelId && relayed.push(c));
    // In a chat channel anyone records; floor requests are refused.
    expect(await emitAck(talker, 'floor:request', { channelId })).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    const started = await start(talker, channelId);
    expect(started.ok).toBe(true);
    const voiceId = (started as { data: { voice: { id: string } } }).data.voice.id;
    expect((await emitAck(talker, 'voice:chunk', { voiceId, index: 0, data: Buffer.from('chat') })).ok).toBe(true);
    await waitFor(() => relayed.length === 1, 5000, 'the chat chunk');
    // The channel turns ptt mid-recording: the speaker does not hold the floor.
    await api.patch(`/api/workspaces/${team.id}/channels/${channelId}`, { mode: 'ptt' }, team.owner.accessToken);
    await sleep(1200); // the other nodes' mode cache
    const refused = await emitAck(talker, 'voice:chunk', { voiceId, index: 1, data: Buffer.from('ptt') });
    expect(refused).toMatchObject({ ok: false, error: { code: 'FLOOR_NOT_HELD' } });
    // The listener takes the floor; the speaker's chunks stay refused.
    expect(await emitAck(ear, 'floor:request', { channelId })).toEqual({ ok: true, data: { state: 'granted' } });
    const again = await emitAck(talker, 'voice:chunk', { voiceId, index: 1, data: Buffer.from('ptt') });
    expect(again).toMatchObject({ ok: false, error: { code: 'FLOOR_NOT_HELD' } });
    expect(await start(talker, channelId)).toMatchObject({ ok: false, error: { code: 'FLOOR_NOT_HELD' } });
    await sleep(300);
    expect(relayed).toHaveLength(1);
    expect(talker.connected).toBe(true);
  });

  it('owners/admins pre-empt the holder, whose recording ends; members asking for priority get FORBIDDEN', async () => {
    const [speaker, other] = await Promise.all([addMember(api, team, 'preempted'), addMember(api, team, 'other')]);
    const channelId = await pttChannel('preempt', [speaker, other]);
    const talker = await open(nodes[1], speaker.accessToken);
    const owner = await open(nodes[2], team.owner.accessToken);
    const otherSocket = await open(nodes[0], other.accessToken);
    const seen = floorEvents(owner, channelId);
    expect(await emitAck(talker, 'floor:request', { channelId })).toEqual({ ok: true, data: { state: 'granted' } });
    const started = await start(talker, channelId);
    const voiceId = (started as { data: { voice: { id: string } } }).data.voice.id;
    expect((await emitAck(talker, 'voice:chunk', { voiceId, index: 0, data: Buffer.from('before') })).ok).toBe(true);
    expect(await emitAck(otherSocket, 'floor:request', { channelId, priority: true })).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
    expect(await emitAck(otherSocket, 'floor:request', { channelId })).toEqual({ ok: true, data: { state: 'queued', position: 1 } });
    // GET .../floor reads what the events announced.
    const floorPath = `/api/workspaces/${team.id}/channels/${channelId}/floor`;
    const before = await api.get(floorPath, other.accessToken);
    expect(before.status).toBe(200);
    expect(before.body).toEqual({ ...latest(seen), holder: speaker.id, queue: [other.id] });
    expect((await api.get(floorPath, (await registerUser(api, 'nosy')).accessToken)).status).toBe(404);
    expect((await api.get(`/api/workspaces/${team.id}/channels/${team.generalId}/floor`, other.accessToken)).body.code).toBe('VALIDATION');
    expect(await emitAck(owner, 'floor:request', { channelId, priority: true })).toEqual({ ok: true, data: { state: 'granted' } });
    await waitFor(() => latest(seen)?.holder === team.owner.id, 5000, 'the owner holding');
    // Not put back in the queue; the one waiting keeps its place.
    expect(latest(seen)!.queue).toEqual([other.id]);
    for (let n = 0; n < 100 && (await clipStatus(voiceId)) === 'recording'; n++) await sleep(100);
    expect(await clipStatus(voiceId)).toBe('processing');
    expect(await emitAck(talker, 'voice:chunk', { voiceId, index: 1, data: Buffer.from('after') })).toMatchObject({
      ok: false,
      error: { code: 'FLOOR_NOT_HELD' },
    });
    // Release hands over to the queue.
    expect(await emitAck(owner, 'floor:release', { channelId })).toEqual({ ok: true, data: {} });
    await waitFor(() => latest(seen)?.holder === other.id, 5000, 'the queued member granted');
  });

  it('revokes the floor after the maximum talk time and after the end-of-media silence', async () => {
    const [first, second] = await Promise.all([addMember(api, team, 'long'), addMember(api, team, 'patient')]);
    const channelId = await pttChannel('talk', [first, second]);
    const shortNode = await startServer(env({ FLOOR_MAX_TALK_MS: String(SHORT_TALK_MS) }));
    try {
      const a = await rawSocket(shortNode.url, first.accessToken);
      const b = await rawSocket(shortNode.url, second.accessToken);
      const seen = floorEvents(b, channelId);
      expect(await emitAck(a, 'floor:request', { channelId })).toEqual({ ok: true, data: { state: 'granted' } });
      expect(await emitAck(b, 'floor:request', { channelId })).toMatchObject({ ok: true, data: { state: 'queued' } });
      await waitFor(() => latest(seen)?.holder === first.id, 5000, 'first holding');
      const held = latest(seen)!;
      expect(new Date(held.expiresAt!).getTime() - new Date(held.since!).getTime()).toBe(SHORT_TALK_MS);
      // a holds without recording: revoked at the talk time, b is next.
      await waitFor(() => latest(seen)?.holder === second.id, SHORT_TALK_MS * 4, 'revoked after the talk time');
      expect(await start(a, channelId)).toMatchObject({ ok: false, error: { code: 'FLOOR_NOT_HELD' } });

      // b records one chunk and goes silent: the end-of-media timer (2 s) releases and ends the recording.
      const started = await start(b, channelId);
      const voiceId = (started as { data: { voice: { id: string } } }).data.voice.id;
      expect((await emitAck(b, 'voice:chunk', { voiceId, index: 0, data: Buffer.from('then silence') })).ok).toBe(true);
      await waitFor(() => latest(seen)?.holder === null, 6000, 'released after silence');
      for (let n = 0; n < 100 && (await clipStatus(voiceId)) === 'recording'; n++) await sleep(100);
      expect(await clipStatus(voiceId)).toBe('processing');
      a.close();
      b.close();
    } finally {
      await shortNode.stop();
    }
  });

  it('answers NOT_FOUND to outsiders and VALIDATION to bad payloads, and keeps the socket', async () => {
    const member = await addMember(api, team, 'insider');
    const channelId = await pttChannel('tenancy', [member]);
    const outsider = await registerUser(api, 'outsider');
    const elsewhere = await createWorkspace(api, outsider);
    const socket = await open(nodes[2], outsider.accessToken);
    expect(elsewhere.id).not.toBe(team.id);
    for (const [event, payload] of [
      ['floor:request', { channelId }],
      ['floor:request', { channelId, priority: true }],
      ['floor:release', { channelId }],
      ['floor:request', { channelId: randomUUID() }],
    ] as const) {
      expect(await emitAck(socket, event, payload)).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    }
    for (const payload of [{}, { channelId: 'nope' }, { channelId, priority: 'yes' }, { channelId, extra: 1 }, 'x']) {
      expect(await emitAck(socket, 'floor:request', payload)).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    }
    expect(await emitAck(socket, 'voice:start', { channelId, clientMsgId: randomUUID(), mimeType: 'audio/ogg' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    expect(socket.connected).toBe(true);
  });
});
