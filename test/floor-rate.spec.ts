import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { Api } from './support/api';
import { addMember, createWorkspace, rawSocket, ReadySocket } from './support/fixtures';
import { startServer, TestServer } from './support/server';

type Ack = { ok: true; data: any } | { ok: false; error: { code: string; message: string; retryAfterMs?: number } };
const emitAck = (socket: Socket, event: string, payload: unknown): Promise<Ack> => socket.timeout(10_000).emitWithAck(event, payload);

/** floor:request counts against the user's write budget (SEND_RATE_*), floor:release does not. */
describe('floor:request rate limit', () => {
  let server: TestServer;
  const sockets: ReadySocket[] = [];
  beforeAll(async () => {
    // 4 writes per 2 s: small enough to reach in a test, with the defaults' shape.
    server = await startServer({ SEND_RATE_BURST: '4', SEND_RATE_PER_SECOND: '2' });
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await server?.stop();
  });

  it('answers RATE_LIMITED with retryAfterMs past the budget, keeps the socket, and still lets the holder release', async () => {
    const api = new Api(server.url);
    const team = await createWorkspace(api);
    const member = await addMember(api, team, 'floor-spammer');
    const created = await api.post(
      `/api/workspaces/${team.id}/channels`,
      { name: `ptt-${randomUUID().slice(0, 6)}`, kind: 'public', memberIds: [member.id] },
      team.owner.accessToken,
    );
    expect(created.status).toBe(201);
    const channelId = created.body.id as string;
    expect((await api.patch(`/api/workspaces/${team.id}/channels/${channelId}`, { mode: 'ptt' }, team.owner.accessToken)).status).toBe(200);
    const socket = await rawSocket(server.url, member.accessToken);
    sockets.push(socket);

    const answers: Ack[] = [];
    for (let i = 0; i < 8; i++) answers.push(await emitAck(socket, 'floor:request', { channelId }));
    const granted = answers.filter((a) => a.ok);
    const limited = answers.filter((a): a is Extract<Ack, { ok: false }> => !a.ok);
    // The first request takes the floor; repeats within the budget answer the same grant.
    expect(granted.length).toBeGreaterThanOrEqual(1);
    expect(granted.length).toBeLessThanOrEqual(4);
    expect(granted[0].ok && granted[0].data).toMatchObject({ state: 'granted' });
    expect(limited.length).toBeGreaterThanOrEqual(4);
    for (const refusal of limited) {
      expect(refusal.error.code).toBe('RATE_LIMITED');
      expect(refusal.error.retryAfterMs).toBeGreaterThan(0);
    }
    expect(socket.connected).toBe(true);
    // Releasing is never limited: a limited client can always give the floor back.
    const released = await emitAck(socket, 'floor:release', { channelId });
    expect(released.ok).toBe(true);
    const floor = await api.get(`/api/workspaces/${team.id}/channels/${channelId}/floor`, member.accessToken);
    expect(floor.body).toMatchObject({ holder: null });
  });
});
