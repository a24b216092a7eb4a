import { randomUUID, createHmac } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import type { EventEnvelope } from '../client/src/types';
import { Api, registerUser } from './support/api';
import { TEST_DATABASE_URL } from './support/env';
import { addMember, createWorkspace, rawSocket, ReadySocket, sdkClient, sleep, TestWorkspace, waitFor } from './support/fixtures';
import { startServer, TestServer } from './support/server';
import { Client } from 'pg';

type Ack = { ok: true; data: any } | { ok: false; error: { code: string; message: string; retryAfterMs?: number } };
const emitAck = (socket: Socket, event: string, payload: unknown): Promise<Ack> => socket.timeout(5000).emitWithAck(event, payload);

describe('realtime gateway (/rt)', () => {
  let server: TestServer;
  let api: Api;
  let db: Client;
  let team: TestWorkspace;
  const sockets: ReadySocket[] = [];
  const open = async (token: string | undefined, extra?: Record<string, unknown>) => {
    const socket = await rawSocket(server.url, token, extra);
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    // A generous send limit here; the rate-limit test runs its own server with the contract's defaults.
    server = await startServer({ SEND_RATE_BURST: '100000', SEND_RATE_PER_SECOND: '100000' });
    api = new Api(server.url);
    db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    team = await createWorkspace(api);
  });
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));
  afterAll(async () => {
    await db.end();
    await server.stop();
  });

  describe('handshake', () => {
    it('refuses a missing, garbage, foreign-key, alg:none or expired token with connect_error UNAUTHORIZED', async () => {
      const payload = (claims: object) => Buffer.from(JSON.stringify(claims)).toString('base64url');
      const claims = { sub: team.owner.id, typ: 'access', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 };
      const none = `${payload({ alg: 'none', typ: 'JWT' })}.${payload(claims)}.`;
      const hs = payload({ alg: 'HS256', typ: 'JWT' });
      const sign = (body: string, key: string) => createHmac('sha256', key).update(`${hs}.${body}`).digest('base64url');
      const foreign = `${hs}.${payload(claims)}.${sign(payload(claims), 'another-secret-0123456789abcdef0123456789')}`;
      const expiredClaims = payload({ ...claims, exp: Math.floor(Date.now() / 1000) - 10 });
      const expired = `${hs}.${expiredClaims}.${sign(expiredClaims, 'pigeon-test-secret-0123456789abcdef0123456789')}`;
      for (const token of [undefined, 'garbage', none, foreign, expired]) {
        const error = (await open(token).catch((e: unknown) => e)) as Error & { data?: { code: string } };
        expect(error).toBeInstanceOf(Error);
        expect(error.message).toBe('UNAUTHORIZED');
        expect(error.data?.code).toBe('UNAUTHORIZED');
      }
    });

    it('refuses a browser Origin outside the allowlist with FORBIDDEN and accepts an allowed one', async () => {
      const refused = (await open(team.owner.accessToken, { extraHeaders: { origin: 'http://evil.example' } }).catch((e: unknown) => e)) as Error & {
        data?: { code: string };
      };
      expect(refused.message).toBe('FORBIDDEN');
      expect(refused.data?.code).toBe('FORBIDDEN');
      const allowed = await open(team.owner.accessToken, { extraHeaders: { origin: 'http://allowed.example' } });
      expect(allowed.connected).toBe(true);
    });

    it('emits ready with every workspace, role and channel position', async () => {
      const ready = (await open(team.owner.accessToken)).ready;
      expect(ready.userId).toBe(team.owner.id);
      const workspace = ready.workspaces.find((w: { id: string }) => w.id === team.id);
      expect(workspace.role).toBe('owner');
      expect(workspace.channels).toContainEqual({ id: team.generalId, headSeq: expect.any(Number), lastReadSeq: 0, mode: 'chat', unheardCount: 0, unheardTopics: [] });
    });
  });

  describe('messages', () => {
    it('acks a send with the message and delivers one event to every member socket, the sender’s other devices included', async () => {
      const member = await addMember(api, team);
      const senderA = await open(team.owner.accessToken);
      const senderB = await open(team.owner.accessToken);
      const receiver = await open(member.accessToken);
      const seen = { a: [] as EventEnvelope[], b: [] as EventEnvelope[], r: [] as EventEnvelope[] };
      senderA.on('event', (e: EventEnvelope) => seen.a.push(e));
      senderB.on('event', (e: EventEnvelope) => seen.b.push(e));
      receiver.on('event', (e: EventEnvelope) => seen.r.push(e));
      const clientMsgId = randomUUID();
      const ack = await emitAck(senderA, 'message:send', { channelId: team.generalId, clientMsgId, body: '  hello  ' });
      expect(ack.ok).toBe(true);
      if (!ack.ok) return;
      expect(ack.data).toMatchObject({ channelId: team.generalId, workspaceId: team.id, clientMsgId, body: 'hello', kind: 'text', authorId: team.owner.id, reactions: [], voice: null });
      const isOurs = (e: EventEnvelope) => e.type === 'message.created' && (e.data as { id: string }).id === ack.data.id;
      await waitFor(() => [seen.a, seen.b, seen.r].every((list) => list.some(isOurs)), 5000, 'event on every socket');
      for (const list of [seen.a, seen.b, seen.r]) {
        const event = list.find(isOurs)!;
        expect(event).toMatchObject({ workspaceId: team.id, channelId: team.generalId, seq: ack.data.seq });
      }
    });

    it('is idempotent on clientMsgId: a retry returns the first message and adds no event (guarantee 5)', async () => {
      const socket = await open(team.owner.accessToken);
      const clientMsgId = `retry-${randomUUID()}`;
      const first = await emitAck(socket, 'message:send', { channelId: team.generalId, clientMsgId, body: 'once' });
      const head = (await db.query('SELECT head_seq FROM channels WHERE id = $1', [team.generalId])).rows[0].head_seq;
      const again = await Promise.all([1, 2, 3].map(() => emitAck(socket, 'message:send', { channelId: team.generalId, clientMsgId, body: 'twice' })));
      expect(first.ok).toBe(true);
      for (const ack of again) {
        expect(ack.ok).toBe(true);
        if (ack.ok && first.ok) expect(ack.data).toEqual(first.data);
      }
      const count = await db.query('SELECT count(*)::int AS n FROM messages WHERE client_msg_id = $1', [clientMsgId]);
      expect(count.rows[0].n).toBe(1);
      const headAfter = (await db.query('SELECT head_seq FROM channels WHERE id = $1', [team.generalId])).rows[0].head_seq;
      expect(headAfter).toBe(head);
    });

    it('edits, reacts and deletes with message.updated / message.deleted events; another author gets FORBIDDEN', async () => {
      const member = await addMember(api, team, 'editor');
      const owner = await open(team.owner.accessToken);
      const other = await open(member.accessToken);
      const events: EventEnvelope[] = [];
      other.on('event', (e: EventEnvelope) => events.push(e));
      const sent = await emitAck(owner, 'message:send', { channelId: team.generalId, clientMsgId: randomUUID(), body: 'draft' });
      if (!sent.ok) throw new Error('send failed');
      const forbidden = await emitAck(other, 'message:edit', { messageId: sent.data.id, body: 'hijack' });
      expect(forbidden).toEqual({ ok: false, error: expect.objectContaining({ code: 'FORBIDDEN' }) });
      const edited = await emitAck(owner, 'message:edit', { messageId: sent.data.id, body: 'final' });
      expect(edited.ok && edited.data.body).toBe('final');
      expect(edited.ok && edited.data.editedAt).toEqual(expect.any(String));
      expect(await emitAck(other, 'reaction:add', { messageId: sent.data.id, emoji: '👍' })).toEqual({ ok: true, data: {} });
      expect(await emitAck(other, 'reaction:add', { messageId: sent.data.id, emoji: '👍' })).toEqual({ ok: true, data: {} });
      expect(await emitAck(owner, 'message:delete', { messageId: sent.data.id })).toEqual({ ok: true, data: { id: sent.data.id } });
      await waitFor(() => events.some((e) => e.type === 'message.deleted'), 5000, 'delete event');
      const ours = events.filter((e) => (e.data as { id?: string }).id === sent.data.id);
      // The duplicate reaction changed nothing, so it produced no event.
      expect(ours.map((e) => e.type)).toEqual(['message.created', 'message.updated', 'message.updated', 'message.deleted']);
      const reacted = ours[2].data as { reactions: unknown[] };
      expect(reacted.reactions).toEqual([{ emoji: '👍', count: 1, userIds: [member.id] }]);
      const deleted = ours[3].data as { body: string; deletedAt: string | null };
      expect(deleted.body).toBe('');
      expect(deleted.deletedAt).toEqual(expect.any(String));
      const seqs = events.map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    });

    it('delivers 1,000 messages sent while a receiver was offline, in order, through the SDK (guarantee 3)', async () => {
      const member = await addMember(api, team, 'offline');
      const receiver = sdkClient(server.url, member.accessToken);
      const delivered: EventEnvelope[] = [];
      receiver.on('event', (e) => delivered.push(e));
      await receiver.connect();
      await receiver.synced();
      const from = receiver.lastSeq(team.generalId) ?? 0;
      receiver.disconnect();
      const sender = await open(team.owner.accessToken);
      const acks = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => emitAck(sender, 'message:send', { channelId: team.generalId, clientMsgId: `off-${i}-${randomUUID()}`, body: `m${i}` })),
      );
      expect(acks.every((a) => a.ok)).toBe(true);
      const later = sdkClient(server.url, member.accessToken, { resumeFrom: { [team.generalId]: from } });
      const caughtUp: EventEnvelope[] = [];
      later.on('event', (e) => e.channelId === team.generalId && caughtUp.push(e));
      await later.connect();
      const lastAckSeq = Math.max(...acks.map((a) => (a.ok ? a.data.seq : 0)));
      await waitFor(() => caughtUp.length > 0 && caughtUp[caughtUp.length - 1].seq >= lastAckSeq, 20_000, 'catch-up');
      later.disconnect();
      const seqs = caughtUp.map((e) => e.seq);
      expect(seqs[0]).toBe(from + 1);
      seqs.forEach((seq, i) => expect(seq).toBe(from + 1 + i));
      const ids = new Set(caughtUp.filter((e) => e.type === 'message.created').map((e) => (e.data as { id: string }).id));
      for (const ack of acks) if (ack.ok) expect(ids.has(ack.data.id)).toBe(true);
    });

    it('sync pages the event log after a seq, with headSeq and hasMore', async () => {
      const socket = await open(team.owner.accessToken);
      const head = Number((await db.query('SELECT head_seq FROM channels WHERE id = $1', [team.generalId])).rows[0].head_seq);
      const ack = await emitAck(socket, 'sync', { channels: [{ channelId: team.generalId, afterSeq: Math.max(0, head - 3) }], limit: 2 });
      if (!ack.ok) throw new Error(JSON.stringify(ack));
      const [page] = ack.data.channels;
      expect(page.headSeq).toBe(head);
      expect(page.events.map((e: EventEnvelope) => e.seq)).toEqual([head - 2, head - 1]);
      expect(page.hasMore).toBe(true);
    });

    it('channel:read is monotonic, capped at the head, and announced to the room', async () => {
      const member = await addMember(api, team, 'reader');
      const reader = await open(member.accessToken);
      const watcher = await open(team.owner.accessToken);
      const reads: any[] = [];
      watcher.on('read', (r: unknown) => reads.push(r));
      const sent = await emitAck(watcher, 'message:send', { channelId: team.generalId, clientMsgId: randomUUID(), body: 'read me' });
      if (!sent.ok) throw new Error('send');
      const seq = sent.data.seq as number;
      expect(await emitAck(reader, 'channel:read', { channelId: team.generalId, seq })).toEqual({ ok: true, data: { lastReadSeq: seq } });
      expect(await emitAck(reader, 'channel:read', { channelId: team.generalId, seq: 1 })).toEqual({ ok: true, data: { lastReadSeq: seq } });
      expect(await emitAck(reader, 'channel:read', { channelId: team.generalId, seq: seq + 1_000_000 })).toEqual({ ok: true, data: { lastReadSeq: expect.any(Number) } });
      await waitFor(() => reads.length >= 1, 5000, 'read event');
      expect(reads[0]).toEqual({ workspaceId: team.id, channelId: team.generalId, userId: member.id, seq });
    });

    it('relays typing to the room except the typist, at most once per interval', async () => {
      const member = await addMember(api, team, 'typist');
      const typist = await open(member.accessToken);
      const typistOther = await open(member.accessToken);
      const watcher = await open(team.owner.accessToken);
      const got: unknown[] = [];
      const echoed: unknown[] = [];
      watcher.on('typing', (t: unknown) => got.push(t));
      typistOther.on('typing', (t: unknown) => echoed.push(t));
      for (let i = 0; i < 5; i++) expect(await emitAck(typist, 'typing', { channelId: team.generalId })).toEqual({ ok: true, data: {} });
      await sleep(300);
      expect(got).toEqual([{ workspaceId: team.id, channelId: team.generalId, topicId: null, userId: member.id }]);
      expect(echoed).toEqual([]);
    });
  });

  describe('bad input', () => {
    const events = ['message:send', 'message:edit', 'message:delete', 'reaction:add', 'reaction:remove', 'sync', 'channel:read', 'typing', 'presence:set', 'auth:refresh'];
    const deep: Record<string, unknown> = {};
    let cursor = deep;
    for (let i = 0; i < 200; i++) cursor = (cursor.next = {}) as Record<string, unknown>;
    const malformed: [string, unknown][] = [
      ['null', null],
      ['number', 42],
      ['string', 'hello'],
      ['boolean', true],
      ['array', [1, 2, 3]],
      ['empty object', {}],
      ['unknown field only', { nope: 1 }],
      ['binary', Buffer.from([1, 2, 3])],
      ['__proto__ key', JSON.parse('{"__proto__": {"admin": true}, "channelId": "x"}')],
      ['constructor key', { constructor: { prototype: { polluted: true } } }],
      ['deep nesting', deep],
      ['1 MB-ish string field', { channelId: 'x'.repeat(100_000) }],
      ['channelId number', { channelId: 5, clientMsgId: 'a', body: 'b' }],
      ['channelId not uuid', { channelId: 'general', clientMsgId: 'a', body: 'b' }],
      ['clientMsgId bad chars', { channelId: randomUUID(), clientMsgId: 'a b/c', body: 'b' }],
      ['clientMsgId too long', { channelId: randomUUID(), clientMsgId: 'a'.repeat(65), body: 'b' }],
      ['body empty after trim', { channelId: randomUUID(), clientMsgId: 'a', body: '   ' }],
      ['body too long', { channelId: randomUUID(), clientMsgId: 'a', body: 'x'.repeat(4001) }],
      ['body array', { channelId: randomUUID(), clientMsgId: 'a', body: ['x'] }],
      ['messageId number', { messageId: 1, body: 'x' }],
      ['emoji too long', { messageId: randomUUID(), emoji: 'x'.repeat(33) }],
      ['extra field', { messageId: randomUUID(), emoji: 'x', extra: 1 }],
      ['channels not array', { channels: 'all' }],
      ['channels item bad', { channels: [{ channelId: randomUUID(), afterSeq: -1 }] }],
      ['channels too many', { channels: Array.from({ length: 201 }, () => ({ channelId: randomUUID(), afterSeq: 0 })) }],
      ['seq string', { channelId: randomUUID(), seq: '5' }],
      ['seq float', { channelId: randomUUID(), seq: 1.5 }],
      ['seq beyond 2^53', { channelId: randomUUID(), seq: 1e20, afterSeq: 1e20 }],
      ['status unknown', { status: 'invisible' }],
      ['token number', { token: 123 }],
      ['nested object as string field', { channelId: { $ne: null }, clientMsgId: 'a', body: 'b' }],
      ['NUL in a string', { channelId: randomUUID(), clientMsgId: 'a', body: 'a\u0000b', messageId: randomUUID(), emoji: '\u0000', token: '\u0000' }],
    ];

    it.each(events)(`%s answers VALIDATION to ${malformed.length} kinds of malformed payload and stays connected`, async (event) => {
      const socket = await open(team.owner.accessToken);
      for (const [, payload] of malformed) {
        const ack = await emitAck(socket, event, payload);
        expect(ack.ok).toBe(false);
        if (!ack.ok) expect(ack.error.code).toBe('VALIDATION');
        expect(socket.connected).toBe(true);
      }
      // An event without an ack callback is processed and the socket survives.
      socket.emit(event, { garbage: true });
      const valid = await emitAck(socket, 'message:send', { channelId: team.generalId, clientMsgId: randomUUID(), body: 'still fine' });
      expect(valid.ok).toBe(true);
      expect(({} as Record<string, unknown>).admin).toBeUndefined();
    });

    it('closes only the sender of a frame over 128 KiB', async () => {
      const big = await open(team.owner.accessToken);
      const bystander = await open(team.owner.accessToken);
      const closed = new Promise<string>((resolve) => big.once('disconnect', (reason) => resolve(reason)));
      big.emit('message:send', { channelId: team.generalId, clientMsgId: randomUUID(), body: 'x'.repeat(200 * 1024) });
      expect(await closed).toEqual(expect.any(String));
      const ack = await emitAck(bystander, 'message:send', { channelId: team.generalId, clientMsgId: randomUUID(), body: 'alive' });
      expect(ack.ok).toBe(true);
    });
  });

  describe('tenancy and membership (guarantee 6)', () => {
    it('a user of another workspace cannot send to, sync, read-mark, type in or receive workspace A', async () => {
      const outsider = await registerUser(api, 'outsider');
      await createWorkspace(api, outsider);
      const socket = await open(outsider.accessToken);
      const received: EventEnvelope[] = [];
      socket.on('event', (e: EventEnvelope) => e.workspaceId === team.id && received.push(e));
      const sent = await emitAck(await open(team.owner.accessToken), 'message:send', { channelId: team.generalId, clientMsgId: randomUUID(), body: 'secret' });
      if (!sent.ok) throw new Error('send');
      const attempts: [string, unknown][] = [
        ['message:send', { channelId: team.generalId, clientMsgId: randomUUID(), body: 'intrude' }],
        ['message:edit', { messageId: sent.data.id, body: 'intrude' }],
        ['message:delete', { messageId: sent.data.id }],
        ['reaction:add', { messageId: sent.data.id, emoji: '👀' }],
        ['sync', { channels: [{ channelId: team.generalId, afterSeq: 0 }] }],
        ['channel:read', { channelId: team.generalId, seq: 1 }],
        ['typing', { channelId: team.generalId }],
      ];
      for (const [event, payload] of attempts) {
        const ack = await emitAck(socket, event, payload);
        expect({ event, ack }).toEqual({ event, ack: { ok: false, error: expect.objectContaining({ code: 'NOT_FOUND' }) } });
      }
      await sleep(200);
      expect(received).toEqual([]);
    });

    it('removal from a channel stops delivery before the DELETE answers', async () => {
      const member = await addMember(api, team, 'leaver');
      const socket = await open(member.accessToken);
      const received: EventEnvelope[] = [];
      socket.on('event', (e: EventEnvelope) => e.channelId === team.generalId && received.push(e));
      const removed = await api.delete(`/api/workspaces/${team.id}/channels/${team.generalId}/members/${member.id}`, team.owner.accessToken);
      expect(removed.status).toBe(204);
      const count = received.length;
      const sent = await emitAck(await open(team.owner.accessToken), 'message:send', { channelId: team.generalId, clientMsgId: randomUUID(), body: 'after removal' });
      expect(sent.ok).toBe(true);
      await sleep(300);
      expect(received.filter((e) => e.type === 'message.created').length).toBe(received.slice(0, count).filter((e) => e.type === 'message.created').length);
      const ack = await emitAck(socket, 'message:send', { channelId: team.generalId, clientMsgId: randomUUID(), body: 'x' });
      expect(ack.ok).toBe(false);
      if (!ack.ok) expect(ack.error.code).toBe('NOT_FOUND');
    });
  });
});

describe('rate limit (contract defaults: burst 20, then 10/s)', () => {
  it('answers RATE_LIMITED with retryAfterMs to a burst, and stores every acked message exactly once', async () => {
    const server = await startServer();
    try {
      const api = new Api(server.url);
      const team = await createWorkspace(api);
      const socket = await rawSocket(server.url, team.owner.accessToken);
      const ids = Array.from({ length: 40 }, (_, i) => `burst-${i}-${randomUUID()}`);
      const acks: Ack[] = await Promise.all(ids.map((clientMsgId) => socket.timeout(5000).emitWithAck('message:send', { channelId: team.generalId, clientMsgId, body: 'burst' })));
      const ok = acks.filter((a) => a.ok);
      const limited = acks.filter((a): a is Extract<Ack, { ok: false }> => !a.ok);
      expect(ok.length).toBe(20);
      expect(limited.length).toBe(20);
      for (const ack of limited) {
        expect(ack.error.code).toBe('RATE_LIMITED');
        expect(ack.error.retryAfterMs).toBeGreaterThan(0);
      }
      const db = new Client({ connectionString: TEST_DATABASE_URL });
      await db.connect();
      const stored = await db.query('SELECT client_msg_id FROM messages WHERE client_msg_id = ANY($1)', [ids]);
      await db.end();
      const okIds = ok.map((a) => (a.ok ? a.data.clientMsgId : '')).sort();
      expect(stored.rows.map((r: { client_msg_id: string }) => r.client_msg_id).sort()).toEqual(okIds);
      socket.close();
    } finally {
      await server.stop();
    }
  });
});
