/**
 * The client against a small in-process stand-in for the `/rt` namespace (real Socket.IO, real
 * sockets), enough to exercise acks, retries, gap repair and reconnect catch-up. The real server's
 * behaviour is the lead's integration suite's business; this only pins the SDK's side of the wire.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Namespace, type Socket as ServerSocket } from 'socket.io';
import { PigeonClient, type PigeonClientOptions } from './pigeon-client';
import { PigeonError } from './errors';
import type { Ack, EventEnvelope, Message, SyncRequest, SyncResponse } from './types';

const WORKSPACE = 'w1';
const USER = 'u1';

type Handler = (payload: unknown, socket: ServerSocket) => Ack<unknown> | undefined | Promise<Ack<unknown> | undefined>;

class FakePigeon {
  readonly channels = new Map<string, EventEnvelope[]>();
  readonly messages = new Map<string, Message>();
  readonly received: { event: string; payload: unknown }[] = [];
  readonly handlers = new Map<string, Handler>();
  validTokens = new Set(['good']);
  /** Handshakes still to refuse as a saturated node would (RATE_LIMITED with a hint). */
  saturatedHandshakes = 0;
  handshakeTimes: number[] = [];
  port = 0;
  private http!: HttpServer;
  private server!: Server;
  namespace!: Namespace;

  async start(): Promise<void> {
    this.http = createServer();
    this.server = new Server(this.http);
    this.namespace = this.server.of('/rt');
    this.namespace.use((socket, next) => {
      const token = (socket.handshake.auth as { token?: string }).token ?? '';
      this.handshakeTimes.push(Date.now());
      if (this.saturatedHandshakes > 0) {
        this.saturatedHandshakes -= 1;
        const busy = new Error('RATE_LIMITED') as Error & { data: unknown };
        busy.data = { code: 'RATE_LIMITED', message: 'node saturated', retryAfterMs: 300 };
        return next(busy);
      }
      if (this.validTokens.has(token)) return next();
      const error = new Error('UNAUTHORIZED') as Error & { data: unknown };
      error.data = { code: 'UNAUTHORIZED', message: 'bad token' };
      next(error);
    });
    this.namespace.on('connection', (socket) => {
      socket.onAny((event: string, payload: unknown, ack?: (answer: unknown) => void) => {
        this.received.push({ event, payload });
        void Promise.resolve(this.handle(event, payload, socket)).then((answer) => {
          if (answer !== undefined && typeof ack === 'function') ack(answer);
        });
      });
      socket.emit('ready', {
        userId: USER,
        workspaces: [
          {
            id: WORKSPACE,
            role: 'owner',
            channels: [...this.channels.entries()].map(([id, events]) => ({ id, headSeq: events.length, lastReadSeq: 0 })),
          },
        ],
      });
    });
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    this.port = (this.http.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.namespace.disconnectSockets(true);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  count(event: string): number {
    return this.received.filter((entry) => entry.event === event).length;
  }

  /** Commits a durable change and returns its envelope without emitting it. */
  append(channelId: string, body = 'x'): EventEnvelope {
    const events = this.channels.get(channelId) ?? [];
    this.channels.set(channelId, events);
    const seq = events.length + 1;
    const message = makeMessage(channelId, seq, body, `server-${channelId}-${seq}`);
    const envelope: EventEnvelope = { workspaceId: WORKSPACE, channelId, seq, type: 'message.created', at: message.createdAt, data: message };
    events.push(envelope);
    return envelope;
  }

  broadcast(envelope: EventEnvelope): void {
    this.namespace.emit('event', envelope);
  }

  private handle(event: string, payload: unknown, socket: ServerSocket): ReturnType<Handler> {
    const custom = this.handlers.get(event);
    if (custom) {
      const answer = custom(payload, socket);
      if (answer !== undefined) return answer;
    }
    if (event === 'message:send') return this.storeMessage(payload as { channelId: string; clientMsgId: string; body: string });
    if (event === 'channel:read') return { ok: true, data: { lastReadSeq: (payload as { seq: number }).seq } };
    if (event === 'sync') return this.sync(payload as SyncRequest);
    if (event === 'auth:refresh') return { ok: true, data: { expiresAt: new Date(Date.now() + 60_000).toISOString() } };
    return { ok: true, data: {} };
  }

  storeMessage(payload: { channelId: string; clientMsgId: string; body: string }): Ack<Message> {
    if (!payload.body?.trim()) return { ok: false, error: { code: 'VALIDATION', message: 'body is empty' } };
    const key = `${payload.channelId}:${payload.clientMsgId}`;
    const existing = this.messages.get(key);
    if (existing) return { ok: true, data: existing };
    const envelope = this.append(payload.channelId, payload.body);
    const message = { ...(envelope.data as Message), clientMsgId: payload.clientMsgId };
    this.messages.set(key, message);
    this.broadcast(envelope);
    return { ok: true, data: message };
  }

  private sync(request: SyncRequest): Ack<SyncResponse> {
    const limit = request.limit ?? 500;
    return {
      ok: true,
      data: {
        channels: request.channels.map(({ channelId, afterSeq }) => {
          const events = this.channels.get(channelId) ?? [];
          const page = events.slice(afterSeq, afterSeq + limit);
          return { channelId, events: page, headSeq: events.length, hasMore: afterSeq + page.length < events.length };
        }),
      },
    };
  }
}

function makeMessage(channelId: string, seq: number, body: string, clientMsgId: string): Message {
  return {
    id: `m-${channelId}-${seq}`,
    workspaceId: WORKSPACE,
    channelId,
    topicId: null,
    seq,
    authorId: USER,
    clientMsgId,
    kind: 'text',
    body,
    replyToId: null,
    createdAt: new Date().toISOString(),
    editedAt: null,
    deletedAt: null,
    reactions: [],
    voice: null,
  };
}

function waitFor(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (predicate()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error('condition not met in time'));
      else setTimeout(check, 5);
    };
    check();
  });
}

describe('PigeonClient against a fake /rt server', () => {
  let server: FakePigeon;
  const clients: PigeonClient[] = [];

  function makeClient(options: Partial<PigeonClientOptions> = {}) {
    const client = new PigeonClient({
      url: server.url,
      token: 'good',
      gapWindowMs: 30,
      backoff: { initialDelayMs: 10, maxDelayMs: 50 },
      requestTimeoutMs: 500,
      ...options,
    });
    const seen: EventEnvelope[] = [];
    const errors: Error[] = [];
    client.on('event', (event) => seen.push(event));
    client.on('error', (error) => errors.push(error));
    clients.push(client);
    return { client, seen, errors, seqs: (channelId = 'c1') => seen.filter((e) => e.channelId === channelId).map((e) => e.seq) };
  }

  beforeEach(async () => {
    server = new FakePigeon();
    server.append('c1');
    server.append('c1');
    await server.start();
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    await server.stop();
  });

  it('resolves connect() with ready and starts new channels at the head', async () => {
    const { client, seen } = makeClient();
    const ready = await client.connect();
    expect(ready.userId).toBe(USER);
    expect(client.isReady).toBe(true);
    expect(client.lastSeq('c1')).toBe(2);
    await client.synced();
    expect(seen).toEqual([]);
  });

  it('rejects connect() with the refusal code and stays closed', async () => {
    const { client } = makeClient({ token: 'bad' });
    await expect(client.connect()).rejects.toMatchObject({ name: 'PigeonError', code: 'UNAUTHORIZED' });
    expect(client.isReady).toBe(false);
    await expect(client.send({ channelId: 'c1', body: 'hi' })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('waits the retryAfterMs hint of a saturated node and then connects, first connect included', async () => {
    server.saturatedHandshakes = 2;
    const { client, errors } = makeClient();
    const ready = await client.connect();
    expect(ready.userId).toBe(USER);
    expect(errors.map((e) => (e as PigeonError).code)).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
    const [first, second, third] = server.handshakeTimes;
    // Each retry waits at least the hint (300 ms) and at most twice it, plus scheduling slack.
    expect(second - first).toBeGreaterThanOrEqual(290);
    expect(third - second).toBeGreaterThanOrEqual(290);
    expect(third - second).toBeLessThan(1500);
  });

  it('replays history with replayFromStart and resumes after resumeFrom', async () => {
    server.append('c1');
    const replay = makeClient({ replayFromStart: true });
    await replay.client.connect();
    await waitFor(() => replay.seen.length === 3);
    expect(replay.seqs()).toEqual([1, 2, 3]);

    const resumed = makeClient({ resumeFrom: { c1: 1 } });
    await resumed.client.connect();
    await resumed.client.synced();
    expect(resumed.seqs()).toEqual([2, 3]);
  });

  it('pages sync while hasMore', async () => {
    for (let i = 0; i < 20; i++) server.append('c1');
    const { client, seqs } = makeClient({ resumeFrom: { c1: 0 }, syncPageSize: 7 });
    await client.connect();
    await client.synced();
    expect(seqs()).toEqual(Array.from({ length: 22 }, (_, index) => index + 1));
    expect(server.count('sync')).toBe(4);
  });

  it('orders live events and repairs a gap with sync, each event exactly once', async () => {
    const { client, seqs } = makeClient();
    const gaps: unknown[] = [];
    client.on('gap', (gap) => gaps.push(gap));
    await client.connect();
    const e3 = server.append('c1');
    const e4 = server.append('c1');
    const e5 = server.append('c1');
    const e6 = server.append('c1');
    server.broadcast(e4);
    server.broadcast(e3);
    server.broadcast(e6); // e5 never arrives live
    server.broadcast(e3);
    await waitFor(() => seqs().length === 4);
    await client.synced();
    expect(seqs()).toEqual([3, 4, 5, 6]);
    expect(gaps).toEqual([{ channelId: 'c1', afterSeq: 4, fromSeq: 5, toSeq: 5, buffered: 1 }]);
    expect(server.received.filter((entry) => entry.event === 'sync').map((entry) => entry.payload)).toEqual([{ channels: [{ channelId: 'c1', afterSeq: 4 }] }]);
    server.broadcast(e5);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seqs()).toEqual([3, 4, 5, 6]);
  });

  it('follows a channel first seen through a live event', async () => {
    const { client, seqs } = makeClient();
    await client.connect();
    server.broadcast(server.append('c2'));
    server.broadcast(server.append('c2'));
    await waitFor(() => seqs('c2').length === 2);
    expect(seqs('c2')).toEqual([1, 2]);
  });

  it('sends with a generated clientMsgId and resolves with the message', async () => {
    const { client, seqs } = makeClient();
    await client.connect();
    const message = await client.send({ channelId: 'c1', body: 'hello' });
    expect(message.seq).toBe(3);
    expect(message.clientMsgId).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor(() => seqs().length === 1);
    expect(server.received.find((entry) => entry.event === 'message:send')?.payload).toEqual({ channelId: 'c1', clientMsgId: message.clientMsgId, body: 'hello' });
  });

  it('retries a lost ack with the same clientMsgId and creates one message', async () => {
    let dropped = 0;
    server.handlers.set('message:send', () => (dropped++ < 2 ? new Promise(() => undefined) : undefined));
    const { client } = makeClient({ requestTimeoutMs: 60 });
    await client.connect();
    const message = await client.send({ channelId: 'c1', body: 'hello', clientMsgId: 'fixed-1' });
    expect(message.clientMsgId).toBe('fixed-1');
    const attempts = server.received.filter((entry) => entry.event === 'message:send').map((entry) => (entry.payload as { clientMsgId: string }).clientMsgId);
    expect(attempts).toEqual(['fixed-1', 'fixed-1', 'fixed-1']);
    expect(server.messages.size).toBe(1);
  });

  it('waits retryAfterMs on RATE_LIMITED', async () => {
    let refused = false;
    server.handlers.set('message:send', () => {
      if (refused) return undefined;
      refused = true;
      return { ok: false, error: { code: 'RATE_LIMITED', message: 'slow down', retryAfterMs: 150 } };
    });
    const { client } = makeClient();
    await client.connect();
    const started = Date.now();
    await client.send({ channelId: 'c1', body: 'hello' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(145);
    expect(server.count('message:send')).toBe(2);
  });

  it('rejects at once on a final code, carrying code and clientMsgId', async () => {
    const { client } = makeClient();
    await client.connect();
    const failure = await client.send({ channelId: 'c1', body: '   ', clientMsgId: 'x-1' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PigeonError);
    expect(failure).toMatchObject({ code: 'VALIDATION', clientMsgId: 'x-1' });
    expect(server.count('message:send')).toBe(1);
  });

  it('gives up after maxAttempts or the deadline', async () => {
    server.handlers.set('message:send', () => ({ ok: false, error: { code: 'INTERNAL', message: 'boom' } }));
    const { client } = makeClient();
    await client.connect();
    await expect(client.send({ channelId: 'c1', body: 'a' }, { maxAttempts: 3 })).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(server.count('message:send')).toBe(3);
    await expect(client.send({ channelId: 'c1', body: 'b' }, { deadlineMs: 100 })).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
  });

  it('keeps retrying a send across a server-side disconnect, then catches up on the new ready', async () => {
    let first = true;
    server.handlers.set('message:send', (payload, socket) => {
      if (!first) return undefined;
      first = false;
      // Stored, but the socket drops before the ack: the retry must get the same message back.
      server.storeMessage(payload as { channelId: string; clientMsgId: string; body: string });
      server.append('c1');
      socket.disconnect(true);
      return new Promise(() => undefined);
    });
    const { client, seqs } = makeClient();
    const reconnects: unknown[] = [];
    const disconnects: string[] = [];
    client.on('reconnect', (payload) => reconnects.push(payload));
    client.on('disconnect', (reason) => disconnects.push(reason));
    await client.connect();
    const message = await client.send({ channelId: 'c1', body: 'hello', clientMsgId: 'across-1' });
    expect(message.seq).toBe(3);
    expect(server.messages.size).toBe(1);
    expect(disconnects).toEqual(['io server disconnect']);
    expect(reconnects).toHaveLength(1);
    await waitFor(() => seqs().length === 2);
    await client.synced();
    expect(seqs()).toEqual([3, 4]);
  });

  it('on server:shutdown finishes the request in flight, sends nothing new on that socket, reconnects at once', async () => {
    const socketsSeen: string[] = [];
    let release: (() => void) | undefined;
    server.handlers.set('message:send', (payload, socket) => {
      socketsSeen.push(socket.id);
      if (socketsSeen.length > 1) return undefined;
      // The first send is held: the shutdown notice arrives while it is in flight.
      return new Promise((resolve) => {
        release = () => resolve(server.storeMessage(payload as { channelId: string; clientMsgId: string; body: string }));
        socket.emit('server:shutdown', { reason: 'shutdown' });
      });
    });
    // A reconnect left to the backoff would come after 5 s at the earliest, past the second send's deadline.
    const { client } = makeClient({ backoff: { initialDelayMs: 10_000, maxDelayMs: 10_000 } });
    const disconnects: string[] = [];
    const errors: Error[] = [];
    client.on('disconnect', (reason) => disconnects.push(reason));
    client.on('error', (error) => errors.push(error));
    await client.connect();
    const first = client.send({ channelId: 'c1', body: 'in flight', clientMsgId: 'sd-1' });
    await waitFor(() => release !== undefined);
    await waitFor(() => !client.isReady);
    // Issued after the notice: it waits for the next ready instead of going out on the old socket.
    const second = client.send({ channelId: 'c1', body: 'after', clientMsgId: 'sd-2' }, { deadlineMs: 3000 });
    await new Promise((r) => setTimeout(r, 50));
    expect(server.count('message:send')).toBe(1);
    release!();
    expect((await first).clientMsgId).toBe('sd-1');
    expect((await second).clientMsgId).toBe('sd-2');
    expect(socketsSeen).toHaveLength(2);
    expect(socketsSeen[1]).not.toBe(socketsSeen[0]);
    // Reconnected at once (not after the backoff); no error along the way.
    expect(disconnects).toEqual(['io client disconnect']);
    expect(errors).toEqual([]);
  });

  it('rejects pending sends with CLIENT_CLOSED on disconnect()', async () => {
    server.handlers.set('message:send', () => ({ ok: false, error: { code: 'INTERNAL', message: 'boom' } }));
    const { client } = makeClient({ backoff: { initialDelayMs: 1000, maxDelayMs: 1000 } });
    await client.connect();
    const pending = client.send({ channelId: 'c1', body: 'a', clientMsgId: 'closed-1' });
    await waitFor(() => server.count('message:send') === 1);
    client.disconnect();
    await expect(pending).rejects.toMatchObject({ code: 'CLIENT_CLOSED', clientMsgId: 'closed-1' });
  });

  it('answers auth:expiring with a fresh token from getToken', async () => {
    let calls = 0;
    const { client } = makeClient({ token: undefined, getToken: async () => (++calls, 'good') });
    await client.connect();
    expect(calls).toBe(1);
    server.namespace.emit('auth:expiring', { expiresAt: new Date().toISOString() });
    await waitFor(() => server.count('auth:refresh') === 1);
    expect(calls).toBe(2);
    expect(server.received.find((entry) => entry.event === 'auth:refresh')?.payload).toEqual({ token: 'good' });
  });

  it('maps request failures to PigeonError and passes app events through', async () => {
    server.handlers.set('message:edit', () => ({ ok: false, error: { code: 'FORBIDDEN', message: 'not yours' } }));
    server.handlers.set('typing', () => new Promise(() => undefined));
    const { client } = makeClient({ requestTimeoutMs: 50 });
    const typing: unknown[] = [];
    client.on('typing', (event) => typing.push(event));
    await client.connect();
    await expect(client.editMessage('m1', 'new')).rejects.toMatchObject({ code: 'FORBIDDEN', message: 'not yours' });
    await expect(client.typing('c1')).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(client.channelRead('c1', 2)).resolves.toBe(2);
    const event = { workspaceId: WORKSPACE, channelId: 'c1', topicId: null, userId: 'u2' };
    server.namespace.emit('typing', event);
    await waitFor(() => typing.length === 1);
    expect(typing).toEqual([event]);
  });
});
