import { randomUUID } from 'node:crypto';
import { Api } from './support/api';
import { addMember, createWorkspace, rawSocket, sleep, waitFor } from './support/fixtures';
import { startServer, TestServer } from './support/server';

type Presence = { workspaceId: string; users: { userId: string; status: string }[] };

describe('presence', () => {
  let server: TestServer;
  let api: Api;
  beforeAll(async () => {
    server = await startServer();
    api = new Api(server.url);
  });
  afterAll(() => server.stop());

  it('announces online, away and offline to the workspace in batches and shows it in the members list', async () => {
    const team = await createWorkspace(api);
    const member = await addMember(api, team, 'present');
    const watcher = await rawSocket(server.url, team.owner.accessToken);
    const batches: Presence[] = [];
    watcher.on('presence', (p: Presence) => p.workspaceId === team.id && batches.push(p));
    const statusOf = (userId: string) =>
      batches.flatMap((b) => b.users).filter((u) => u.userId === userId).map((u) => u.status).pop();

    const first = await rawSocket(server.url, member.accessToken);
    const second = await rawSocket(server.url, member.accessToken);
    await waitFor(() => statusOf(member.id) === 'online', 5000, 'online');
    const members = await api.get(`/api/workspaces/${team.id}/members`, team.owner.accessToken);
    expect(members.body.find((m: { userId: string }) => m.userId === member.id).presence).toBe('online');

    expect(await first.timeout(5000).emitWithAck('presence:set', { status: 'away' })).toEqual({ ok: true, data: {} });
    await waitFor(() => statusOf(member.id) === 'away', 5000, 'away');

    // Online while any socket is connected: closing one of two changes nothing.
    first.close();
    await sleep(1500);
    expect(statusOf(member.id)).toBe('away');
    second.close();
    await waitFor(() => statusOf(member.id) === 'offline', 5000, 'offline');
    const after = await api.get(`/api/workspaces/${team.id}/members`, team.owner.accessToken);
    expect(after.body.find((m: { userId: string }) => m.userId === member.id).presence).toBe('offline');
    // At most one presence event per workspace per second (per node).
    expect(batches.length).toBeLessThanOrEqual(6);
    watcher.close();
  });
});

describe('access token expiry on a live socket', () => {
  let server: TestServer;
  let api: Api;
  beforeAll(async () => {
    // 10 s tokens: `auth:expiring` comes at once (less than the 60 s warning), expiry after 10 s.
    server = await startServer({ ACCESS_TOKEN_TTL_SECONDS: '10' });
    api = new Api(server.url);
  });
  afterAll(() => server.stop());

  it('warns with auth:expiring, disconnects at expiry unless auth:refresh brought a new token', async () => {
    const team = await createWorkspace(api);
    const stale = await rawSocket(server.url, team.owner.accessToken);
    const refreshed = await rawSocket(server.url, team.owner.accessToken);
    const warned: unknown[] = [];
    stale.on('auth:expiring', (p: unknown) => warned.push(p));
    await waitFor(() => warned.length > 0, 5000, 'auth:expiring');
    expect(warned[0]).toEqual({ expiresAt: expect.any(String) });

    const bad = await refreshed.timeout(5000).emitWithAck('auth:refresh', { token: 'garbage' });
    expect(bad.error.code).toBe('UNAUTHORIZED');
    const other = await addMember(api, team, 'other');
    const wrongUser = await refreshed.timeout(5000).emitWithAck('auth:refresh', { token: other.accessToken });
    expect(wrongUser.error.code).toBe('UNAUTHORIZED');

    await sleep(2000); // a new token must expire later than the first one
    const login = await api.post('/api/auth/refresh', { refreshToken: team.owner.refreshToken });
    const ok = await refreshed.timeout(5000).emitWithAck('auth:refresh', { token: login.body.accessToken });
    expect(ok).toEqual({ ok: true, data: { expiresAt: expect.any(String) } });

    const staleGone = new Promise<string>((resolve) => stale.once('disconnect', resolve));
    expect(await staleGone).toBe('io server disconnect');
    expect(refreshed.connected).toBe(true);
    const send = await refreshed.timeout(5000).emitWithAck('message:send', { channelId: team.generalId, clientMsgId: randomUUID(), body: 'still here' });
    expect(send.ok).toBe(true);
    refreshed.close();
  }, 30_000);
});
