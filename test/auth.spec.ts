import { randomUUID } from 'node:crypto';
import { Api, registerUser } from './support/api';
import { startServer, TestServer } from './support/server';

describe('auth (REST)', () => {
  let server: TestServer;
  let api: Api;

  beforeAll(async () => {
    server = await startServer();
    api = new Api(server.url);
  });
  afterAll(() => server.stop());

  it('registers, answers /me, and refuses a taken email (case-insensitive) with 409', async () => {
    const email = `Ada-${randomUUID()}@Example.com`;
    const first = await api.post('/api/auth/register', { email, password: 'correct-horse-battery', displayName: 'Ada' });
    expect(first.status).toBe(201);
    expect(first.body.user).toEqual({ id: expect.any(String), email: email.toLowerCase(), displayName: 'Ada' });
    expect(typeof first.body.accessToken).toBe('string');
    const me = await api.get('/api/me', first.body.accessToken);
    expect(me.status).toBe(200);
    expect(me.body).toEqual(first.body.user);
    const again = await api.post('/api/auth/register', { email: email.toUpperCase(), password: 'another-password', displayName: 'X' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('CONFLICT');
  });

  it('validates register input and names the fields', async () => {
    const cases: [unknown, string][] = [
      [{ password: 'correct-horse-battery', displayName: 'A' }, 'email'],
      [{ email: 'not-an-email', password: 'correct-horse-battery', displayName: 'A' }, 'email'],
      [{ email: 'a@b.co', password: 'short', displayName: 'A' }, 'password'],
      [{ email: 'a@b.co', password: 12345678901, displayName: 'A' }, 'password'],
      [{ email: 'a@b.co', password: 'correct-horse-battery', displayName: '' }, 'displayName'],
      [{ email: 'a@b.co', password: 'correct-horse-battery', displayName: 'x'.repeat(65) }, 'displayName'],
      [{ email: 'a@b.co', password: 'correct-horse-battery', displayName: 'A', isAdmin: true }, 'isAdmin'],
    ];
    for (const [body, field] of cases) {
      const response = await api.post('/api/auth/register', body);
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('VALIDATION');
      expect(response.body.details.map((d: { field: string }) => d.field)).toContain(field);
    }
  });

  it('answers the same 401 for an unknown email and a wrong password', async () => {
    const user = await registerUser(api, 'login');
    const ok = await api.post('/api/auth/login', { email: user.email, password: 'correct-horse-battery' });
    expect(ok.status).toBe(200);
    const wrong = await api.post('/api/auth/login', { email: user.email, password: 'wrong-password-here' });
    const unknown = await api.post('/api/auth/login', { email: `nobody-${randomUUID()}@example.com`, password: 'x' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
  });

  it('rotates refresh tokens and revokes the family when a spent one is reused', async () => {
    const user = await registerUser(api, 'rotate');
    const first = await api.post('/api/auth/refresh', { refreshToken: user.refreshToken });
    expect(first.status).toBe(200);
    expect(first.body.refreshToken).not.toBe(user.refreshToken);
    const second = await api.post('/api/auth/refresh', { refreshToken: first.body.refreshToken });
    expect(second.status).toBe(200);
    // Reusing the spent first token: refused, and the whole family (including `second`) dies.
    const reuse = await api.post('/api/auth/refresh', { refreshToken: user.refreshToken });
    expect(reuse.status).toBe(401);
    expect(reuse.body.code).toBe('UNAUTHORIZED');
    const afterRevocation = await api.post('/api/auth/refresh', { refreshToken: second.body.refreshToken });
    expect(afterRevocation.status).toBe(401);
  });

  it('logs out by revoking the family', async () => {
    const user = await registerUser(api, 'logout');
    const out = await api.post('/api/auth/logout', { refreshToken: user.refreshToken });
    expect(out.status).toBe(204);
    const refresh = await api.post('/api/auth/refresh', { refreshToken: user.refreshToken });
    expect(refresh.status).toBe(401);
  });

  it('refuses missing, malformed, foreign-key and alg:none access tokens', async () => {
    expect((await api.get('/api/me')).status).toBe(401);
    expect((await api.get('/api/me', 'garbage')).status).toBe(401);
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: randomUUID(), typ: 'access', exp: 9999999999 })).toString('base64url');
    expect((await api.get('/api/me', `${header}.${payload}.`)).status).toBe(401);
    const { createHmac } = await import('node:crypto');
    const hs = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
    const signature = createHmac('sha256', 'some-other-secret-0123456789abcdef0123').update(`${hs}.${payload}`).digest('base64url');
    const foreign = await api.get('/api/me', `${hs}.${payload}.${signature}`);
    expect(foreign.status).toBe(401);
    expect(foreign.body.code).toBe('UNAUTHORIZED');
  });

  it('answers malformed JSON with 400 VALIDATION and an oversize body with 413', async () => {
    const malformed = await api.request('POST', '/api/auth/login', { raw: '{"email": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('VALIDATION');
    const big = await api.post('/api/auth/login', { email: 'a@b.co', password: 'x'.repeat(300 * 1024) });
    expect(big.status).toBe(413);
    expect(big.body.code).toBe('PAYLOAD_TOO_LARGE');
  });
});
