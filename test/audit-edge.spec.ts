import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Api, registerUser } from './support/api';
import { addMember, createWorkspace, rawSocket, sleep, waitFor } from './support/fixtures';
import { startServer, TestServer } from './support/server';

/**
 * Regression tests for the audit's auth, membership and HTTP-edge findings (issue 8). Two API nodes
 * share Postgres and Redis: `a` with the defaults, `b` with small caps so they are reached quickly.
 */
/** A JSON POST from another loopback source address (127.0.0.x), as a second client machine. */
function postFrom(localAddress: string, url: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = httpRequest(url, { method: 'POST', localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

describe('security audit regressions: auth and edge', () => {
  let a: TestServer;
  let b: TestServer;
  let api: Api;
  let apiB: Api;

  beforeAll(async () => {
    [a, b] = await Promise.all([
      startServer({ METRICS_TOKEN: 'metrics-secret-token' }),
      startServer({ AUTH_RATE_PER_MINUTE: '3', SOCKETS_PER_USER_MAX: '3', SWAGGER_ENABLED: 'false', ALLOW_PRIVATE_TARGETS: 'false' }),
    ]);
    api = new Api(a.url);
    apiB = new Api(b.url);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  describe('brute force (audit: 30 wrong logins, 30 Argon2 hashes)', () => {
    it('locks an (email, address) pair after 5 failed logins, even for the right password, and for unknown emails alike', async () => {
      const user = await registerUser(api, 'victim');
      const login = (email: string, password: string, headers: Record<string, string> = {}) =>
        api.request('POST', '/api/auth/login', { body: { email, password }, headers });
      for (let i = 0; i < 5; i++) expect((await login(user.email, 'wrong-password-123')).status).toBe(401);
      const locked = await login(user.email, 'correct-horse-battery');
      expect(locked.status).toBe(429);
      expect(locked.body).toMatchObject({ code: 'RATE_LIMITED' });
      expect(locked.body.retryAfterMs).toBeGreaterThan(60_000);
      // X-Forwarded-For is not trusted without TRUST_PROXY: it cannot buy new attempts.
      expect((await login(user.email, 'correct-horse-battery', { 'x-forwarded-for': '203.0.113.9' })).status).toBe(429);
      // An unknown email gets exactly the same treatment, so the answers tell nothing about who exists.
      const ghost = `ghost-${randomUUID()}@example.com`;
      const ghostAnswers = [];
      for (let i = 0; i < 6; i++) ghostAnswers.push((await login(ghost, 'wrong-password-123')).status);
      expect(ghostAnswers).toEqual([401, 401, 401, 401, 401, 429]);
    });

    it('lets at most 5 of 30 concurrent wrong logins reach the password check', async () => {
      const user = await registerUser(api, 'stormed');
      const answers = await Promise.all(
        Array.from({ length: 30 }, () => api.post('/api/auth/login', { email: user.email, password: 'wrong-password-123' })),
      );
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses.filter((s) => s === 401)).toHaveLength(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(25);
    });

    it('does not lock the same account out from another address', async () => {
      const user = await registerUser(api, 'roamer');
      for (let i = 0; i < 5; i++) {
        expect((await api.post('/api/auth/login', { email: user.email, password: 'wrong-password-123' })).status).toBe(401);
      }
      expect((await api.post('/api/auth/login', { email: user.email, password: 'correct-horse-battery' })).status).toBe(429);
      // 127.0.0.2 is another source address on the loopback interface.
      expect(await postFrom('127.0.0.2', `${a.url}/api/auth/login`, { email: user.email, password: 'correct-horse-battery' })).toBe(200);
    });

    it('limits sign-ups per address with RATE_LIMITED before hashing', async () => {
      // From an address no other test uses (the count is per address, shared by every node).
      const statuses = [];
      for (let i = 0; i < 4; i++) {
        const body = { email: `burst-${randomUUID()}@example.com`, password: 'correct-horse-battery', displayName: 'burst' };
        statuses.push(await postFrom('127.0.0.3', `${b.url}/api/auth/register`, body));
      }
      expect(statuses).toEqual([201, 201, 201, 429]);
    });
  });

  describe('sessions end at logout (audit: access tokens lived 15 min after logout)', () => {
    it('logout ends the access token on REST and disconnects that session’s sockets on every node within a second', async () => {
      const user = await registerUser(api, 'leaver');
      const other = await api.post('/api/auth/login', { email: user.email, password: 'correct-horse-battery' });
      expect(other.status).toBe(200);
      const onB = await rawSocket(b.url, user.accessToken);
      const otherSession = await rawSocket(a.url, other.body.accessToken);
      let disconnectedAt = 0;
      onB.on('disconnect', () => (disconnectedAt = Date.now()));
      try {
        const started = Date.now();
        expect((await api.post('/api/auth/logout', { refreshToken: user.refreshToken })).status).toBe(204);
        await waitFor(() => disconnectedAt > 0, 1000, 'session socket disconnected');
        expect(disconnectedAt - started).toBeLessThan(1000);
        expect((await api.get('/api/me', user.accessToken)).status).toBe(401);
        expect((await apiB.get('/api/me', user.accessToken)).status).toBe(401);
        await expect(rawSocket(b.url, user.accessToken)).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
        // The user's other session (another device) is untouched.
        await sleep(200);
        expect(otherSession.connected).toBe(true);
        expect((await api.get('/api/me', other.body.accessToken)).status).toBe(200);
      } finally {
        onB.close();
        otherSession.close();
      }
    });

    it('a reused refresh token revokes its family, access tokens included', async () => {
      const user = await registerUser(api, 'reuse');
      const rotated = await api.post('/api/auth/refresh', { refreshToken: user.refreshToken });
      expect(rotated.status).toBe(200);
      expect((await api.get('/api/me', rotated.body.accessToken)).status).toBe(200);
      expect((await api.post('/api/auth/refresh', { refreshToken: user.refreshToken })).status).toBe(401);
      expect((await api.get('/api/me', rotated.body.accessToken)).status).toBe(401);
      expect((await api.get('/api/me', user.accessToken)).status).toBe(401);
    });
  });

  it('caps live sockets per user with LIMIT_REACHED (audit: 30 sockets all ready)', async () => {
    const user = await registerUser(api, 'many-tabs');
    const sockets = [];
    try {
      for (let i = 0; i < 3; i++) sockets.push(await rawSocket(b.url, user.accessToken));
      await sleep(100);
      await expect(rawSocket(b.url, user.accessToken)).rejects.toMatchObject({ data: { code: 'LIMIT_REACHED' } });
      // Closing one frees a slot (the presence set drops it on disconnect).
      sockets.pop()!.close();
      await sleep(300);
      sockets.push(await rawSocket(b.url, user.accessToken));
      expect(sockets.every((s) => s.connected)).toBe(true);
    } finally {
      sockets.forEach((s) => s.close());
    }
  });

  describe('invites (audit: no revocation, removed members came back)', () => {
    it('a revoked invite answers 404; only owners and admins may revoke', async () => {
      const team = await createWorkspace(api);
      const member = await addMember(api, team, 'plain');
      const invite = await api.post(`/api/workspaces/${team.id}/invites`, {}, team.owner.accessToken);
      expect((await api.delete(`/api/workspaces/${team.id}/invites/${invite.body.code}`, member.accessToken)).status).toBe(403);
      const stranger = await registerUser(api, 'stranger');
      expect((await api.delete(`/api/workspaces/${team.id}/invites/${invite.body.code}`, stranger.accessToken)).status).toBe(404);
      expect((await api.delete(`/api/workspaces/${team.id}/invites/${invite.body.code}`, team.owner.accessToken)).status).toBe(204);
      expect((await api.delete(`/api/workspaces/${team.id}/invites/${invite.body.code}`, team.owner.accessToken)).status).toBe(404);
      const accepted = await api.post(`/api/invites/${invite.body.code}/accept`, undefined, stranger.accessToken);
      expect(accepted.status).toBe(404);
      expect(accepted.body.code).toBe('NOT_FOUND');
    });

    it('a member removed by an admin cannot return with an older invite, but can with a new one; one who left can', async () => {
      const team = await createWorkspace(api);
      const old = await api.post(`/api/workspaces/${team.id}/invites`, {}, team.owner.accessToken);
      const removed = await registerUser(api, 'removed');
      const leaver = await registerUser(api, 'leaver');
      for (const user of [removed, leaver]) {
        expect((await api.post(`/api/invites/${old.body.code}/accept`, undefined, user.accessToken)).status).toBe(200);
      }
      expect((await api.delete(`/api/workspaces/${team.id}/members/${removed.id}`, team.owner.accessToken)).status).toBe(204);
      expect((await api.delete(`/api/workspaces/${team.id}/members/${leaver.id}`, leaver.accessToken)).status).toBe(204);
      expect((await api.post(`/api/invites/${old.body.code}/accept`, undefined, removed.accessToken)).status).toBe(404);
      expect((await api.post(`/api/invites/${old.body.code}/accept`, undefined, leaver.accessToken)).status).toBe(200);
      await sleep(10);
      const fresh = await api.post(`/api/workspaces/${team.id}/invites`, {}, team.owner.accessToken);
      expect((await api.post(`/api/invites/${fresh.body.code}/accept`, undefined, removed.accessToken)).status).toBe(200);
    });
  });

  describe('HTTP edge', () => {
    it('sends security headers and no X-Powered-By', async () => {
      const response = await fetch(`${a.url}/health/live`);
      expect(response.headers.get('x-powered-by')).toBeNull();
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
      const docs = await fetch(`${a.url}/docs`);
      expect(docs.status).toBe(200);
      expect(docs.headers.get('content-security-policy')).toContain("script-src 'self'");
    });

    it('turns Swagger off with SWAGGER_ENABLED=false', async () => {
      expect((await fetch(`${b.url}/docs`)).status).toBe(404);
      expect((await fetch(`${b.url}/docs-json`)).status).toBe(404);
      expect((await fetch(`${a.url}/docs-json`)).status).toBe(200);
    });

    it('checks the metrics token (constant time) and refuses a wrong one', async () => {
      expect((await fetch(`${a.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${a.url}/metrics`, { headers: { authorization: 'Bearer metrics-secret-tokeX' } })).status).toBe(401);
      expect((await fetch(`${a.url}/metrics`, { headers: { authorization: 'Bearer metrics-secret-token' } })).status).toBe(200);
    });

    it('answers a 60,000-deep body and prototype keys with 400 VALIDATION, not 500', async () => {
      const user = await registerUser(api, 'nester');
      const deep = '['.repeat(60_000) + ']'.repeat(60_000);
      const nested = await api.request('POST', '/api/workspaces', { raw: `{"name":"x","slug":"abc","extra":${deep}}`, token: user.accessToken });
      expect(nested.status).toBe(400);
      expect(nested.body).toMatchObject({ statusCode: 400, code: 'VALIDATION' });
      for (const key of ['__proto__', 'constructor', 'prototype']) {
        const polluted = await api.request('POST', '/api/workspaces', {
          raw: `{"name":"x","slug":"s-${randomUUID().slice(0, 6)}","meta":{"${key}":{"isAdmin":true}}}`,
          token: user.accessToken,
        });
        expect(polluted.status).toBe(400);
        expect(polluted.body.code).toBe('VALIDATION');
      }
      // The server is fine afterwards.
      expect((await api.get('/api/me', user.accessToken)).status).toBe(200);
    });

    it('refuses webhook targets that resolve to loopback when private targets are off', async () => {
      const team = await createWorkspace(api);
      for (const url of ['https://localhost/hook', 'https://127.0.0.1/hook', 'https://[::ffff:7f00:1]/hook', 'http://93.184.216.34/hook']) {
        const created = await apiB.post(`/api/workspaces/${team.id}/webhooks`, { url, events: ['message.created'] }, team.owner.accessToken);
        expect(created.status).toBe(400);
        expect(created.body.code).toBe('VALIDATION');
      }
    });
  });
});
