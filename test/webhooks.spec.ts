import { createHmac, randomUUID } from 'node:crypto';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Api, registerUser } from './support/api';
import { addMember, createWorkspace, TestWorkspace, waitFor } from './support/fixtures';
import { startServer, TestServer } from './support/server';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A loopback receiver that answers each request with the next status of `script` (the last one repeats). */
async function receiver(script: number[]): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.statusCode = script[Math.min(received.length - 1, script.length - 1)];
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// Retries are fast here: 50 ms base delay and 4 attempts instead of the contract's 1 s and 8
// (WEBHOOK_BACKOFF_BASE_MS, WEBHOOK_MAX_ATTEMPTS); the schedule's shape is the same.
const ENV = { WEBHOOK_BACKOFF_BASE_MS: '50', WEBHOOK_MAX_ATTEMPTS: '4', ALLOW_PRIVATE_TARGETS: 'true' };

describe('webhooks', () => {
  let server: TestServer;
  let worker: TestServer;
  let api: Api;
  let team: TestWorkspace;

  beforeAll(async () => {
    [server, worker] = await Promise.all([startServer(ENV), startServer(ENV, 'worker.js')]);
    api = new Api(server.url);
    team = await createWorkspace(api);
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), worker?.stop()]);
  });

  const send = async (body: string) => {
    const sent = await api.post(
      `/api/workspaces/${team.id}/channels/${team.generalId}/messages`,
      { clientMsgId: randomUUID(), body },
      team.owner.accessToken,
    );
    expect(sent.status).toBe(201);
    return sent.body as { id: string; seq: number };
  };
  const deliveries = async (webhookId: string) => {
    const listed = await api.get(`/api/workspaces/${team.id}/webhooks/${webhookId}/deliveries`, team.owner.accessToken);
    expect(listed.status).toBe(200);
    return listed.body as {
      id: string;
      eventType: string;
      status: string;
      attempts: { at: string; statusCode: number | null; error: string | null; durationMs: number }[];
    }[];
  };

  it('retries a failing receiver with the same delivery id and a signature that verifies', async () => {
    const target = await receiver([500, 503, 200]);
    try {
      const created = await api.post(
        `/api/workspaces/${team.id}/webhooks`,
        { url: target.url, events: ['message.created'] },
        team.owner.accessToken,
      );
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        id: expect.any(String),
        secret: expect.any(String),
        url: target.url,
        events: ['message.created'],
      });
      const message = await send('hello hooks');
      await waitFor(() => target.received.length >= 3, 30_000, 'three attempts');
      let listed = await deliveries(created.body.id);
      for (let i = 0; i < 100 && listed[0]?.status !== 'delivered'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        listed = await deliveries(created.body.id);
      }
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ eventType: 'message.created', status: 'delivered' });
      expect(listed[0].attempts.map((a) => a.statusCode)).toEqual([500, 503, 200]);
      expect(target.received).toHaveLength(3);
      const ids = new Set(target.received.map((r) => r.headers['pigeon-delivery']));
      expect([...ids]).toEqual([listed[0].id]);
      for (const request of target.received) {
        expect(request.headers['pigeon-event']).toBe('message.created');
        expect(request.headers['content-type']).toMatch(/^application\/json/);
        const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(request.headers['pigeon-signature']));
        expect(match).not.toBeNull();
        const expected = createHmac('sha256', created.body.secret).update(`${match![1]}.${request.body}`).digest('hex');
        expect(match![2]).toBe(expected);
        const envelope = JSON.parse(request.body);
        expect(envelope).toMatchObject({
          workspaceId: team.id,
          channelId: team.generalId,
          seq: message.seq,
          type: 'message.created',
        });
        expect(envelope.data.id).toBe(message.id);
      }
    } finally {
      await target.close();
    }
  });

  it('marks a delivery failed after the last attempt and lists deliveries newest first', async () => {
    const target = await receiver([500]);
    try {
      const created = await api.post(
        `/api/workspaces/${team.id}/webhooks`,
        { url: target.url, events: ['message.created', 'message.updated'] },
        team.owner.accessToken,
      );
      expect(created.status).toBe(201);
      const first = await send('first');
      const second = await send('second');
      await waitFor(() => target.received.length >= 8, 60_000, 'every attempt of both deliveries');
      let listed = await deliveries(created.body.id);
      for (let i = 0; i < 100 && !listed.every((d) => d.status === 'failed'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        listed = await deliveries(created.body.id);
      }
      expect(listed.map((d) => d.status)).toEqual(['failed', 'failed']);
      for (const delivery of listed) {
        expect(delivery.attempts).toHaveLength(4);
        expect(delivery.attempts.every((a) => a.statusCode === 500 && a.durationMs >= 0)).toBe(true);
      }
      // Newest first: the second message's delivery leads.
      const seqOf = (id: string) =>
        JSON.parse(target.received.find((r) => r.headers['pigeon-delivery'] === id)!.body).seq;
      expect(listed.map((d) => seqOf(d.id))).toEqual([second.seq, first.seq]);
      // No more attempts after the last one.
      await new Promise((r) => setTimeout(r, 1000));
      expect(target.received).toHaveLength(8);
    } finally {
      await target.close();
    }
  });

  it('refuses a non-http URL or an unknown event type with VALIDATION', async () => {
    for (const body of [
      { url: 'ftp://example.com/hook', events: ['message.created'] },
      { url: 'not a url', events: ['message.created'] },
      { url: 'http://127.0.0.1:9/hook', events: ['message.exploded'] },
      { url: 'http://127.0.0.1:9/hook', events: [] },
    ]) {
      const response = await api.post(`/api/workspaces/${team.id}/webhooks`, body, team.owner.accessToken);
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('VALIDATION');
    }
  });

  it('is for owners and admins only (403), and another tenant answers 404', async () => {
    const member = await addMember(api, team, 'plain');
    const body = { url: 'http://127.0.0.1:9/hook', events: ['message.created'] };
    const refused = await api.post(`/api/workspaces/${team.id}/webhooks`, body, member.accessToken);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('FORBIDDEN');

    const created = await api.post(`/api/workspaces/${team.id}/webhooks`, body, team.owner.accessToken);
    expect(created.status).toBe(201);
    const stranger = await registerUser(api, 'stranger');
    const other = await createWorkspace(api, stranger);
    for (const response of [
      await api.post(`/api/workspaces/${team.id}/webhooks`, body, stranger.accessToken),
      await api.get(`/api/workspaces/${team.id}/webhooks/${created.body.id}/deliveries`, stranger.accessToken),
      // Their own workspace, our webhook id.
      await api.get(`/api/workspaces/${other.id}/webhooks/${created.body.id}/deliveries`, stranger.accessToken),
    ]) {
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('NOT_FOUND');
    }
  });

  it('delivers only what the webhook creator may read: no DM or private channel of others (audit high)', async () => {
    const own = await createWorkspace(api);
    const [alice, bob] = [await addMember(api, own, 'alice'), await addMember(api, own, 'bob')];
    const target = await receiver([200]);
    try {
      const created = await api.post(
        `/api/workspaces/${own.id}/webhooks`,
        { url: target.url, events: ['message.created'] },
        own.owner.accessToken,
      );
      expect(created.status).toBe(201);
      const dm = await api.post(`/api/workspaces/${own.id}/dms`, { userIds: [bob.id] }, alice.accessToken);
      const hidden = await api.post(
        `/api/workspaces/${own.id}/channels`,
        { name: `secret-${randomUUID().slice(0, 6)}`, kind: 'private', memberIds: [bob.id] },
        alice.accessToken,
      );
      const post = async (channelId: string, token: string, body: string) => {
        const sent = await api.post(`/api/workspaces/${own.id}/channels/${channelId}/messages`, { clientMsgId: randomUUID(), body }, token);
        expect(sent.status).toBe(201);
      };
      await post(dm.body.id, alice.accessToken, 'dm between alice and bob');
      await post(hidden.body.id, alice.accessToken, 'private without the owner');
      // Sent last on the same node: once it arrives, the two before it were dispatched (or not) too.
      await post(own.generalId, alice.accessToken, 'in general');
      await waitFor(() => target.received.some((r) => r.body.includes('in general')), 15_000, 'general delivery');
      const bodies = target.received.map((r) => r.body);
      expect(bodies.some((b) => b.includes('dm between alice and bob'))).toBe(false);
      expect(bodies.some((b) => b.includes('private without the owner'))).toBe(false);
      const listed = await api.get(`/api/workspaces/${own.id}/webhooks/${created.body.id}/deliveries`, own.owner.accessToken);
      expect((listed.body as unknown[]).length).toBe(1);
    } finally {
      await target.close();
    }
  });

  it('does not send a queued retry once the creator can no longer read the channel', async () => {
    const own = await createWorkspace(api);
    const admin = await addMember(api, own, 'admin');
    expect((await api.patch(`/api/workspaces/${own.id}/members/${admin.id}`, { role: 'admin' }, own.owner.accessToken)).status).toBe(200);
    // Fails every time: the first attempt is answered, the retry must never reach it.
    const target = await receiver([500]);
    try {
      const hook = await api.post(`/api/workspaces/${own.id}/webhooks`, { url: target.url, events: ['message.created'] }, admin.accessToken);
      expect(hook.status).toBe(201);
      const sent = await api.post(
        `/api/workspaces/${own.id}/channels/${own.generalId}/messages`,
        { clientMsgId: randomUUID(), body: 'first attempt fails' },
        own.owner.accessToken,
      );
      expect(sent.status).toBe(201);
      await waitFor(() => target.received.length === 1, 15_000, 'first attempt');
      expect((await api.delete(`/api/workspaces/${own.id}/members/${admin.id}`, own.owner.accessToken)).status).toBe(204);
      type Listed = { status: string; attempts: { statusCode: number | null; error: string | null }[] }[];
      let listed: Listed = [];
      for (let i = 0; i < 150 && listed[0]?.status !== 'failed'; i++) {
        listed = (await api.get(`/api/workspaces/${own.id}/webhooks/${hook.body.id}/deliveries`, own.owner.accessToken)).body as Listed;
        if (listed[0]?.status !== 'failed') await new Promise((r) => setTimeout(r, 100));
      }
      expect(listed[0].attempts.map((a) => a.statusCode)).toEqual([500, null]);
      expect(listed[0].attempts[1].error).toBe('not visible to the webhook owner');
      expect(target.received).toHaveLength(1);
    } finally {
      await target.close();
    }
  });
});
