import { createHmac } from 'node:crypto';
import { Api, registerUser, TestUser } from './support/api';
import { addMember, createWorkspace, rawSocket, ReadySocket, sleep, TestWorkspace, waitFor } from './support/fixtures';
import { startServer, TestServer } from './support/server';

type Ack = { ok: boolean; data?: any; error?: { code: string; retryAfterMs?: number } };
interface HuddleEvent {
  workspaceId: string;
  channelId: string;
  huddleId: string;
  rev: number;
  participants: { userId: string; socketId: string; muted: boolean; speaking: boolean }[];
}

const SECRET = 'huddle-test-turn-secret-0123456789';
const LEASE_MS = 1500;
const ENV = {
  TURN_URLS: 'turn:turn.test:3478?transport=udp,turns:turn.test:5349',
  STUN_URLS: 'stun:stun.test:3478',
  TURN_SECRET: SECRET,
  HUDDLE_MAX_PARTICIPANTS: '3',
  HUDDLE_LEASE_MS: String(LEASE_MS),
  HUDDLE_SIGNAL_BURST: '20',
  HUDDLE_SIGNAL_RATE_PER_SECOND: '1',
};

const emit = (socket: ReadySocket, event: string, payload: unknown): Promise<Ack> => socket.timeout(10_000).emitWithAck(event, payload);
const codeOf = (ack: Ack) => (ack.ok ? 'OK' : ack.error?.code);

/** Collects `huddle` events of one channel as a socket sees them. */
function huddleEvents(socket: ReadySocket, channelId: string): HuddleEvent[] {
  const seen: HuddleEvent[] = [];
  socket.on('huddle', (event: HuddleEvent) => event.channelId === channelId && seen.push(event));
  return seen;
}
const socketIdsOf = (event: HuddleEvent | undefined) => (event?.participants ?? []).map((p) => p.socketId).sort();

/** Two API nodes: participants in one huddle are spread over both, so every relay crosses the Redis adapter. */
describe('huddles: signaling across two nodes', () => {
  let nodes: TestServer[];
  let api: Api;
  let team: TestWorkspace;
  let bob: TestUser;
  let carol: TestUser;
  const sockets: ReadySocket[] = [];
  const connect = async (node: number, user: TestUser) => {
    const socket = await rawSocket(nodes[node].url, user.accessToken);
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    nodes = await Promise.all([startServer(ENV), startServer(ENV)]);
    api = new Api(nodes[0].url);
    team = await createWorkspace(api);
    [bob, carol] = await Promise.all([addMember(api, team, 'bob'), addMember(api, team, 'carol')]);
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('join answers the huddle, its participants and coturn REST credentials; every change reaches the channel room on both nodes', async () => {
    const alice = await connect(0, team.owner);
    const bobSocket = await connect(1, bob);
    const watcher = await connect(1, carol); // in the channel, not in the huddle
    const watched = huddleEvents(watcher, team.generalId);

    const before = Math.floor(Date.now() / 1000);
    const joined = await emit(alice, 'huddle:join', { channelId: team.generalId });
    expect(joined.ok).toBe(true);
    expect(joined.data.participants).toEqual([
      { userId: team.owner.id, socketId: alice.id, muted: false, speaking: false, joinedAt: expect.any(String) },
    ]);
    const [stun, turn] = joined.data.iceServers;
    expect(stun).toEqual({ urls: ['stun:stun.test:3478'] });
    expect(turn.urls).toEqual(['turn:turn.test:3478?transport=udp', 'turns:turn.test:5349']);
    const [expiry, userId] = turn.username.split(':');
    expect(userId).toBe(team.owner.id);
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 3600);
    expect(Number(expiry)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 3600);
    expect(turn.credential).toBe(createHmac('sha1', SECRET).update(turn.username).digest('base64'));
    expect(new Date(joined.data.iceServersExpireAt).getTime()).toBe(Number(expiry) * 1000);

    const second = await emit(bobSocket, 'huddle:join', { channelId: team.generalId });
    expect(second.data.huddleId).toBe(joined.data.huddleId);
    expect(second.data.participants.map((p: { socketId: string }) => p.socketId)).toEqual([alice.id, bobSocket.id]);
    await waitFor(() => socketIdsOf(watched.at(-1)).length === 2, 5000, 'huddle event with both');
    expect(watched.at(-1)).toMatchObject({ workspaceId: team.id, channelId: team.generalId, huddleId: joined.data.huddleId });

    expect(await emit(bobSocket, 'huddle:mute', { channelId: team.generalId, muted: true })).toEqual({ ok: true, data: {} });
    await waitFor(() => watched.at(-1)?.participants.find((p) => p.socketId === bobSocket.id)?.muted === true, 5000, 'mute event');
    expect(await emit(alice, 'huddle:speaking', { channelId: team.generalId, speaking: true })).toEqual({ ok: true, data: {} });
    await waitFor(() => watched.at(-1)?.participants.find((p) => p.socketId === alice.id)?.speaking === true, 5000, 'speaking event');
    // Revisions grow, so a late event can be told from a newer one.
    const revs = watched.map((e) => e.rev);
    expect([...revs].sort((a, b) => a - b)).toEqual(revs);

    const state = await emit(watcher, 'huddle:get', { channelId: team.generalId });
    expect(state.data).toMatchObject({ workspaceId: team.id, channelId: team.generalId, huddleId: joined.data.huddleId });
    expect(state.data.participants).toEqual([
      expect.objectContaining({ socketId: alice.id, speaking: true, muted: false }),
      expect.objectContaining({ socketId: bobSocket.id, muted: true }),
    ]);

    // A signal from node 0 reaches the addressed socket on node 1, rebuilt from the known fields.
    const received = new Promise<any>((resolve) => bobSocket.once('huddle:signal', resolve));
    const candidate = { candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host', sdpMid: '0', sdpMLineIndex: 0 };
    expect(await emit(alice, 'huddle:signal', { channelId: team.generalId, toSocketId: bobSocket.id, signal: { type: 'candidate', candidate } })).toEqual({ ok: true, data: {} });
    expect(await received).toEqual({ channelId: team.generalId, fromSocketId: alice.id, fromUserId: team.owner.id, signal: { type: 'candidate', candidate } });

    expect(await emit(bobSocket, 'huddle:leave', { channelId: team.generalId })).toEqual({ ok: true, data: {} });
    await waitFor(() => socketIdsOf(watched.at(-1)).join() === alice.id, 5000, 'leave event');
    expect(await emit(alice, 'huddle:leave', { channelId: team.generalId })).toEqual({ ok: true, data: {} });
    await waitFor(() => watched.at(-1)?.participants.length === 0, 5000, 'ended event');
    expect(watched.at(-1)?.huddleId).toBe(joined.data.huddleId);
    expect((await emit(watcher, 'huddle:get', { channelId: team.generalId })).data).toMatchObject({ huddleId: null, participants: [] });
    // A new huddle gets a new id.
    const again = await emit(alice, 'huddle:join', { channelId: team.generalId });
    expect(again.data.huddleId).not.toBe(joined.data.huddleId);
    await emit(alice, 'huddle:leave', { channelId: team.generalId });
  });

  it('an outsider, a non-member and a removed member get NOT_FOUND for every huddle event; a socket outside the huddle cannot signal or be signaled', async () => {
    const privateChannel = await api.post(`/api/workspaces/${team.id}/channels`, { name: `huddle-${Date.now()}`, kind: 'private' }, team.owner.accessToken);
    expect(privateChannel.status).toBe(201);
    const channelId: string = privateChannel.body.id;
    const dave = await addMember(api, team, 'dave');
    expect((await api.post(`/api/workspaces/${team.id}/channels/${channelId}/members`, { userId: dave.id }, team.owner.accessToken)).status).toBe(200);

    const alice = await connect(0, team.owner);
    const daveSocket = await connect(1, dave);
    const outsider = await connect(0, await registerUser(api, 'outsider'));
    const nonMember = await connect(1, carol); // in the workspace, not in the private channel
    const aliceEvents = huddleEvents(alice, channelId);

    expect(codeOf(await emit(alice, 'huddle:join', { channelId }))).toBe('OK');
    expect(codeOf(await emit(daveSocket, 'huddle:join', { channelId }))).toBe('OK');
    await waitFor(() => socketIdsOf(aliceEvents.at(-1)).length === 2, 5000, 'both in the huddle');
    const signal = { type: 'offer', sdp: 'v=0\r\n' };
    const everyEvent = (toSocketId: string): [string, object][] => [
      ['huddle:join', { channelId }],
      ['huddle:leave', { channelId }],
      ['huddle:signal', { channelId, toSocketId, signal }],
      ['huddle:mute', { channelId, muted: true }],
      ['huddle:speaking', { channelId, speaking: true }],
      ['huddle:get', { channelId }],
    ];
    const leaked: unknown[] = [];
    outsider.on('huddle', (e) => leaked.push(e));
    outsider.on('huddle:signal', (e) => leaked.push(e));
    nonMember.on('huddle', (e) => e.channelId === channelId && leaked.push(e));
    for (const socket of [outsider, nonMember]) {
      for (const [event, payload] of everyEvent(alice.id!)) {
        expect({ event, code: codeOf(await emit(socket, event, payload)) }).toEqual({ event, code: 'NOT_FOUND' });
      }
    }
    // Another workspace's socket cannot be signaled either (the target is not in this huddle).
    expect(codeOf(await emit(alice, 'huddle:signal', { channelId, toSocketId: outsider.id, signal }))).toBe('NOT_FOUND');
    expect(codeOf(await emit(alice, 'huddle:signal', { channelId, toSocketId: 'no-such-socket', signal }))).toBe('NOT_FOUND');

    // Removal takes dave out of the huddle on his node, and every huddle event is NOT_FOUND from then on.
    expect((await api.delete(`/api/workspaces/${team.id}/channels/${channelId}/members/${dave.id}`, team.owner.accessToken)).status).toBe(204);
    await waitFor(() => socketIdsOf(aliceEvents.at(-1)).join() === alice.id, 5000, 'removed member left the huddle');
    const daveGot: unknown[] = [];
    daveSocket.on('huddle:signal', (e) => daveGot.push(e));
    daveSocket.on('huddle', (e) => e.channelId === channelId && daveGot.push(e));
    for (const [event, payload] of everyEvent(alice.id!)) {
      expect({ event, code: codeOf(await emit(daveSocket, event, payload)) }).toEqual({ event, code: 'NOT_FOUND' });
    }
    expect(codeOf(await emit(alice, 'huddle:signal', { channelId, toSocketId: daveSocket.id, signal }))).toBe('NOT_FOUND');
    // A member outside the huddle: no mute, leave or signal either.
    expect(codeOf(await emit(alice, 'huddle:leave', { channelId }))).toBe('OK');
    for (const [event, payload] of everyEvent(alice.id!).filter(([e]) => ['huddle:leave', 'huddle:mute', 'huddle:speaking'].includes(e))) {
      expect({ event, code: codeOf(await emit(alice, event, payload)) }).toEqual({ event, code: 'NOT_FOUND' });
    }
    await sleep(300);
    expect(leaked).toEqual([]);
    expect(daveGot).toEqual([]);
    // The sockets still work after all those refusals.
    expect(codeOf(await emit(outsider, 'presence:set', { status: 'away' }))).toBe('OK');
  });

  it('refuses the participant past the cap with LIMIT_REACHED; a bad signal is VALIDATION; signals are rate limited per socket', async () => {
    const members = await Promise.all([1, 2, 3].map((n) => addMember(api, team, `cap${n}`)));
    const joined = await Promise.all([connect(0, members[0]), connect(1, members[1]), connect(0, members[2])]);
    const extra = await connect(1, team.owner);
    const acks = await Promise.all(joined.map((s) => emit(s, 'huddle:join', { channelId: team.generalId })));
    expect(acks.map(codeOf)).toEqual(['OK', 'OK', 'OK']);
    const refused = await emit(extra, 'huddle:join', { channelId: team.generalId });
    expect(refused.error?.code).toBe('LIMIT_REACHED');
    // The same socket joining again is not a new participant.
    expect(codeOf(await emit(joined[0], 'huddle:join', { channelId: team.generalId }))).toBe('OK');

    const [a, b] = joined;
    for (const signal of [
      { type: 'offer' },
      { type: 'offer', sdp: '' },
      { type: 'rollback', sdp: 'x' },
      { type: 'offer', sdp: 'v=0', extra: 1 },
      { type: 'candidate', candidate: { candidate: 'x', evil: true } },
      { type: 'candidate', candidate: { candidate: 'x'.repeat(2000) } },
      { type: 'answer', sdp: 'x'.repeat(40_000) },
      'offer',
    ]) {
      expect({ signal, code: codeOf(await emit(a, 'huddle:signal', { channelId: team.generalId, toSocketId: b.id, signal })) }).toEqual({ signal, code: 'VALIDATION' });
    }
    expect(codeOf(await emit(a, 'huddle:signal', { channelId: team.generalId, toSocketId: a.id, signal: { type: 'candidate', candidate: null } }))).toBe('VALIDATION');
    // Burst 20 at 1/s, the join included: a flood is cut off, the socket stays usable.
    const flood = await Promise.all(
      Array.from({ length: 40 }, () => emit(b, 'huddle:signal', { channelId: team.generalId, toSocketId: a.id, signal: { type: 'candidate', candidate: null } })),
    );
    const codes = flood.map(codeOf);
    expect(codes.filter((c) => c === 'OK').length).toBe(19);
    expect(codes.filter((c) => c === 'RATE_LIMITED').length).toBe(21);
    expect(flood.find((f) => !f.ok)?.error?.retryAfterMs).toBeGreaterThan(0);
    // Mute and speaking changes are room events: limited the same way; leave and get are not.
    expect(codeOf(await emit(b, 'huddle:mute', { channelId: team.generalId, muted: true }))).toBe('RATE_LIMITED');
    expect(codeOf(await emit(b, 'huddle:get', { channelId: team.generalId }))).toBe('OK');
    await Promise.all(joined.map((s) => emit(s, 'huddle:leave', { channelId: team.generalId })));
  });

  it('a socket that disconnects leaves; one that joins another channel leaves the first', async () => {
    const channel = await api.post(`/api/workspaces/${team.id}/channels`, { name: `second-${Date.now()}`, kind: 'public' }, team.owner.accessToken);
    const alice = await connect(0, team.owner);
    const watcher = await connect(0, carol);
    const events = huddleEvents(watcher, team.generalId);
    const bobSocket = await connect(1, bob);
    await emit(alice, 'huddle:join', { channelId: team.generalId });
    await emit(bobSocket, 'huddle:join', { channelId: team.generalId });
    await waitFor(() => socketIdsOf(events.at(-1)).length === 2, 5000, 'both joined');
    bobSocket.close();
    await waitFor(() => socketIdsOf(events.at(-1)).join() === alice.id, 5000, 'disconnected socket left');

    expect(codeOf(await emit(alice, 'huddle:join', { channelId: channel.body.id }))).toBe('OK');
    await waitFor(() => events.at(-1)?.participants.length === 0, 5000, 'left the first huddle');
    expect((await emit(alice, 'huddle:get', { channelId: channel.body.id })).data.participants.map((p: { socketId: string }) => p.socketId)).toEqual([alice.id]);
    await emit(alice, 'huddle:leave', { channelId: channel.body.id });
  });

  it('a member removed from the workspace leaves the huddle and can no longer signal or be signaled', async () => {
    const erin = await addMember(api, team, 'erin');
    const alice = await connect(0, team.owner);
    const events = huddleEvents(alice, team.generalId);
    const erinSocket = await connect(1, erin);
    await emit(alice, 'huddle:join', { channelId: team.generalId });
    await emit(erinSocket, 'huddle:join', { channelId: team.generalId });
    await waitFor(() => socketIdsOf(events.at(-1)).length === 2, 5000, 'both joined');
    expect((await api.delete(`/api/workspaces/${team.id}/members/${erin.id}`, team.owner.accessToken)).status).toBe(204);
    await waitFor(() => socketIdsOf(events.at(-1)).join() === alice.id, 5000, 'removed member left');
    const signal = { type: 'candidate', candidate: null };
    expect(codeOf(await emit(erinSocket, 'huddle:signal', { channelId: team.generalId, toSocketId: alice.id, signal }))).toBe('NOT_FOUND');
    expect(codeOf(await emit(alice, 'huddle:signal', { channelId: team.generalId, toSocketId: erinSocket.id, signal }))).toBe('NOT_FOUND');
    expect(codeOf(await emit(erinSocket, 'huddle:join', { channelId: team.generalId }))).toBe('NOT_FOUND');
    await emit(alice, 'huddle:leave', { channelId: team.generalId });
  });

  it('participants of a node killed with -9 are dropped within the lease', async () => {
    const alice = await connect(0, team.owner);
    const events = huddleEvents(alice, team.generalId);
    await emit(alice, 'huddle:join', { channelId: team.generalId });
    const doomed = await rawSocket(nodes[1].url, bob.accessToken);
    await emit(doomed, 'huddle:join', { channelId: team.generalId });
    await waitFor(() => socketIdsOf(events.at(-1)).length === 2, 5000, 'both joined');
    const doomedId = doomed.id;
    await nodes[1].crash();
    doomed.close();
    // The lease, plus one sweep interval and delivery.
    await waitFor(() => !socketIdsOf(events.at(-1)).includes(doomedId as string), LEASE_MS * 4, 'dead node participant swept');
    expect(socketIdsOf(events.at(-1))).toEqual([alice.id]);
    await emit(alice, 'huddle:leave', { channelId: team.generalId });
  });
});
