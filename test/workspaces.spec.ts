import Redis from 'ioredis';
import pg from 'pg';
import { Api, registerUser, TestUser, uniqueSlug } from './support/api';
import { TEST_DATABASE_URL, TEST_REDIS_PREFIX, TEST_REDIS_URL } from './support/env';
import { startServer, TestServer } from './support/server';

type Role = 'owner' | 'admin' | 'member' | 'guest';

const fieldsOf = (body: { details?: { field: string }[] }) => (body.details ?? []).map((detail) => detail.field);

describe('workspaces, members and invites (REST)', () => {
  let server: TestServer;
  let api: Api;
  let database: pg.Client;
  let redis: Redis;

  beforeAll(async () => {
    server = await startServer();
    api = new Api(server.url);
    database = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await database.connect();
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await database.end();
    redis.disconnect();
    await server.stop();
  });

  async function createWorkspace(owner: TestUser): Promise<{ id: string; slug: string }> {
    const response = await api.post('/api/workspaces', { name: 'Acme', slug: uniqueSlug() }, owner.accessToken);
    expect(response.status).toBe(201);
    return response.body;
  }

  async function invite(owner: TestUser, workspaceId: string, body: object = {}): Promise<string> {
    const response = await api.post(`/api/workspaces/${workspaceId}/invites`, body, owner.accessToken);
    expect(response.status).toBe(201);
    return response.body.code;
  }

  /** A new user with `role` in the workspace (owner/admin are granted by the owner after joining). */
  async function join(owner: TestUser, workspaceId: string, role: Role = 'member'): Promise<TestUser> {
    const user = await registerUser(api, role);
    const code = await invite(owner, workspaceId, { role: role === 'guest' ? 'guest' : 'member' });
    expect((await api.post(`/api/invites/${code}/accept`, undefined, user.accessToken)).status).toBe(200);
    if (role === 'owner' || role === 'admin') {
      expect(
        (await api.patch(`/api/workspaces/${workspaceId}/members/${user.id}`, { role }, owner.accessToken)).status,
      ).toBe(200);
    }
    return user;
  }

  async function general(user: TestUser, workspaceId: string) {
    const channels = await api.get(`/api/workspaces/${workspaceId}/channels`, user.accessToken);
    return channels.body.find((channel: { name: string }) => channel.name === 'general');
  }

  describe('POST/GET /api/workspaces', () => {
    it('creates a workspace with the caller as owner and a public general channel they are in', async () => {
      const owner = await registerUser(api, 'owner');
      const slug = uniqueSlug();
      const created = await api.post('/api/workspaces', { name: '  Acme Inc  ', slug }, owner.accessToken);
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.any(String),
        name: 'Acme Inc',
        slug,
        createdAt: expect.any(String),
        role: 'owner',
      });
      expect(new Date(created.body.createdAt).toISOString()).toBe(created.body.createdAt);

      const channel = await general(owner, created.body.id);
      expect(channel).toMatchObject({ kind: 'public', isMember: true, headSeq: 1, lastReadSeq: 0, unreadCount: 0 });
      const events = await api.get(
        `/api/workspaces/${created.body.id}/channels/${channel.id}/events`,
        owner.accessToken,
      );
      expect(events.body.events).toEqual([
        expect.objectContaining({ seq: 1, type: 'member.joined', data: { userId: owner.id } }),
      ]);

      const list = await api.get('/api/workspaces', owner.accessToken);
      expect(list.status).toBe(200);
      expect(list.body).toEqual([created.body]);
      const one = await api.get(`/api/workspaces/${created.body.id}`, owner.accessToken);
      expect(one.status).toBe(200);
      expect(one.body).toEqual(created.body);
    });

    it('answers 409 CONFLICT on a taken slug', async () => {
      const owner = await registerUser(api, 'owner');
      const { slug } = await createWorkspace(owner);
      const again = await api.post('/api/workspaces', { name: 'Other', slug }, (await registerUser(api)).accessToken);
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('CONFLICT');
    });

    it('answers 404 for a workspace the caller is not in, an unknown id and a non-UUID id', async () => {
      const owner = await registerUser(api, 'owner');
      const stranger = await registerUser(api, 'stranger');
      const { id } = await createWorkspace(owner);
      for (const path of [
        `/api/workspaces/${id}`,
        '/api/workspaces/00000000-0000-4000-8000-000000000000',
        '/api/workspaces/not-a-uuid',
      ]) {
        const response = await api.get(path, stranger.accessToken);
        expect(response.status).toBe(404);
        expect(response.body.code).toBe('NOT_FOUND');
      }
      expect((await api.get('/api/workspaces', stranger.accessToken)).body).toEqual([]);
      expect((await api.get('/api/workspaces')).status).toBe(401);
    });

    it('validates the body and names the field', async () => {
      const owner = await registerUser(api, 'owner');
      const cases: [unknown, string][] = [
        [{ slug: uniqueSlug() }, 'name'],
        [{ name: '   ', slug: uniqueSlug() }, 'name'],
        [{ name: 'x'.repeat(101), slug: uniqueSlug() }, 'name'],
        [{ name: 42, slug: uniqueSlug() }, 'name'],
        [{ name: 'Acme' }, 'slug'],
        [{ name: 'Acme', slug: 'Not A Slug' }, 'slug'],
        [{ name: 'Acme', slug: 'a' }, 'slug'],
        [{ name: 'Acme', slug: 'a'.repeat(41) }, 'slug'],
        [{ name: 'Acme', slug: 7 }, 'slug'],
        [{ name: 'Acme', slug: uniqueSlug(), plan: 'pro' }, 'plan'],
      ];
      for (const [body, field] of cases) {
        const response = await api.post('/api/workspaces', body, owner.accessToken);
        expect(response.status).toBe(400);
        expect(response.body.code).toBe('VALIDATION');
        expect(fieldsOf(response.body)).toContain(field);
      }
    });
  });

  describe('members', () => {
    it('lists members with display name, role and presence read from Redis', async () => {
      const owner = await registerUser(api, 'owner');
      const { id } = await createWorkspace(owner);
      const guest = await join(owner, id, 'guest');
      await redis.set(`${TEST_REDIS_PREFIX}:presence:${owner.id}`, 'dnd', 'EX', 60);
      const response = await api.get(`/api/workspaces/${id}/members`, guest.accessToken);
      expect(response.status).toBe(200);
      expect(response.body).toEqual([
        { userId: owner.id, displayName: 'owner', role: 'owner', presence: 'dnd' },
        { userId: guest.id, displayName: 'guest', role: 'guest', presence: 'offline' },
      ]);
    });

    it('lets owners and admins change roles within the rules', async () => {
      const owner = await registerUser(api, 'owner');
      const { id } = await createWorkspace(owner);
      const admin = await join(owner, id, 'admin');
      const member = await join(owner, id);
      const guest = await join(owner, id, 'guest');
      const patch = (caller: TestUser, target: TestUser, role: string) =>
        api.patch(`/api/workspaces/${id}/members/${target.id}`, { role }, caller.accessToken);

      const promoted = await patch(admin, guest, 'member');
      expect(promoted.status).toBe(200);
      expect(promoted.body).toEqual({ userId: guest.id, displayName: 'guest', role: 'member', presence: 'offline' });

      for (const [caller, target, role] of [
        [member, guest, 'admin'], // members manage nobody
        [guest, member, 'guest'],
        [admin, member, 'owner'], // only owners grant owner
        [admin, owner, 'member'], // or take it away
      ] as const) {
        const response = await patch(caller, target, role);
        expect(response.status).toBe(403);
        expect(response.body.code).toBe('FORBIDDEN');
      }

      const lastOwner = await patch(owner, owner, 'admin');
      expect(lastOwner.status).toBe(409);
      expect(lastOwner.body.code).toBe('CONFLICT');

      expect((await patch(owner, member, 'owner')).status).toBe(200);
      const stepDown = await patch(owner, owner, 'admin');
      expect(stepDown.status).toBe(200);
      expect(stepDown.body.role).toBe('admin');
      const roles = await api.get(`/api/workspaces/${id}/members`, owner.accessToken);
      expect(Object.fromEntries(roles.body.map((m: { userId: string; role: string }) => [m.userId, m.role]))).toEqual({
        [owner.id]: 'admin',
        [admin.id]: 'admin',
        [member.id]: 'owner',
        [guest.id]: 'member',
      });
    });

    it('answers 404 for an unknown or foreign member and validates the role', async () => {
      const owner = await registerUser(api, 'owner');
      const stranger = await registerUser(api, 'stranger');
      const { id } = await createWorkspace(owner);
      for (const uid of [stranger.id, 'not-a-uuid']) {
        const response = await api.patch(`/api/workspaces/${id}/members/${uid}`, { role: 'admin' }, owner.accessToken);
        expect(response.status).toBe(404);
        expect(response.body.code).toBe('NOT_FOUND');
        expect((await api.delete(`/api/workspaces/${id}/members/${uid}`, owner.accessToken)).status).toBe(404);
      }
      const cases: [unknown, string][] = [
        [{}, 'role'],
        [{ role: 'king' }, 'role'],
        [{ role: 1 }, 'role'],
        [{ role: 'admin', reason: 'x' }, 'reason'],
      ];
      for (const [body, field] of cases) {
        const response = await api.patch(`/api/workspaces/${id}/members/${owner.id}`, body, owner.accessToken);
        expect(response.status).toBe(400);
        expect(fieldsOf(response.body)).toContain(field);
      }
    });

    it('removes members within the rules, dropping their channel memberships with member.left', async () => {
      const owner = await registerUser(api, 'owner');
      const { id } = await createWorkspace(owner);
      const admin = await join(owner, id, 'admin');
      const member = await join(owner, id);
      const other = await join(owner, id);
      const remove = (caller: TestUser, target: TestUser) =>
        api.delete(`/api/workspaces/${id}/members/${target.id}`, caller.accessToken);

      expect((await remove(member, other)).status).toBe(403);
      expect((await remove(admin, owner)).status).toBe(403);
      const lastOwner = await remove(owner, owner);
      expect(lastOwner.status).toBe(409);
      expect(lastOwner.body.code).toBe('CONFLICT');

      const channel = await general(owner, id);
      const removed = await remove(admin, member);
      expect(removed.status).toBe(204);
      expect(removed.body).toBeUndefined();
      expect((await api.get(`/api/workspaces/${id}`, member.accessToken)).status).toBe(404);
      expect((await api.get(`/api/workspaces/${id}/channels/${channel.id}/messages`, member.accessToken)).status).toBe(
        404,
      );
      const events = await api.get(
        `/api/workspaces/${id}/channels/${channel.id}/events?after=${channel.headSeq}`,
        owner.accessToken,
      );
      expect(events.body.events).toEqual([
        expect.objectContaining({ type: 'member.left', data: { userId: member.id } }),
      ]);
      const rows = await database.query('SELECT 1 FROM channel_members WHERE workspace_id = $1 AND user_id = $2', [
        id,
        member.id,
      ]);
      expect(rows.rowCount).toBe(0);

      expect((await remove(other, other)).status).toBe(204); // leaving
      expect((await remove(other, other)).status).toBe(404);
      const members = await api.get(`/api/workspaces/${id}/members`, owner.accessToken);
      expect(members.body.map((m: { userId: string }) => m.userId).sort()).toEqual([owner.id, admin.id].sort());
    });
  });

  describe('invites', () => {
    it('creates an invite (owners/admins only) and validates it', async () => {
      const owner = await registerUser(api, 'owner');
      const stranger = await registerUser(api, 'stranger');
      const { id } = await createWorkspace(owner);
      const created = await api.post(`/api/workspaces/${id}/invites`, {}, owner.accessToken);
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        code: expect.stringMatching(/^[A-Za-z0-9_-]{22,}$/),
        expiresAt: expect.any(String),
        role: 'member',
        maxUses: null,
      });
      const hours = (Date.parse(created.body.expiresAt) - Date.now()) / 3_600_000;
      expect(hours).toBeGreaterThan(167.9);
      expect(hours).toBeLessThanOrEqual(168);
      const custom = await api.post(
        `/api/workspaces/${id}/invites`,
        { role: 'guest', maxUses: 2, expiresInHours: 1 },
        owner.accessToken,
      );
      expect(custom.body).toMatchObject({ role: 'guest', maxUses: 2 });

      const member = await join(owner, id);
      expect((await api.post(`/api/workspaces/${id}/invites`, {}, member.accessToken)).status).toBe(403);
      expect((await api.post(`/api/workspaces/${id}/invites`, {}, stranger.accessToken)).status).toBe(404);

      const cases: [unknown, string][] = [
        [{ role: 'owner' }, 'role'],
        [{ role: 'admin' }, 'role'],
        [{ maxUses: 0 }, 'maxUses'],
        [{ maxUses: 10001 }, 'maxUses'],
        [{ maxUses: '5' }, 'maxUses'],
        [{ expiresInHours: 0 }, 'expiresInHours'],
        [{ expiresInHours: 721 }, 'expiresInHours'],
        [{ expiresInHours: 1.5 }, 'expiresInHours'],
        [{ workspaceId: id }, 'workspaceId'],
      ];
      for (const [body, field] of cases) {
        const response = await api.post(`/api/workspaces/${id}/invites`, body, owner.accessToken);
        expect(response.status).toBe(400);
        expect(fieldsOf(response.body)).toContain(field);
      }
    });

    it('accepts: joins the workspace and general; a member accepting again keeps their role and spends nothing', async () => {
      const owner = await registerUser(api, 'owner');
      const { id } = await createWorkspace(owner);
      const code = await invite(owner, id, { role: 'guest', maxUses: 2 });
      const first = await registerUser(api, 'first');
      const accepted = await api.post(`/api/invites/${code}/accept`, undefined, first.accessToken);
      expect(accepted.status).toBe(200);
      expect(accepted.body).toEqual({ workspaceId: id, userId: first.id, role: 'guest' });
      const channel = await general(first, id);
      expect(channel).toMatchObject({ isMember: true });
      const events = await api.get(`/api/workspaces/${id}/channels/${channel.id}/events?after=1`, first.accessToken);
      expect(events.body.events).toEqual([
        expect.objectContaining({ type: 'member.joined', data: { userId: first.id } }),
      ]);

      const again = await api.post(`/api/invites/${code}/accept`, undefined, first.accessToken);
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ workspaceId: id, userId: first.id, role: 'guest' });
      const ownerAccepts = await api.post(`/api/invites/${code}/accept`, undefined, owner.accessToken);
      expect(ownerAccepts.body).toEqual({ workspaceId: id, userId: owner.id, role: 'owner' });

      const second = await registerUser(api, 'second');
      expect((await api.post(`/api/invites/${code}/accept`, undefined, second.accessToken)).status).toBe(200);
      const third = await registerUser(api, 'third');
      const usedUp = await api.post(`/api/invites/${code}/accept`, undefined, third.accessToken);
      expect(usedUp.status).toBe(404);
      expect(usedUp.body.code).toBe('NOT_FOUND');
      expect((await api.get(`/api/workspaces/${id}`, third.accessToken)).status).toBe(404);
    });

    it('answers 404 for unknown and expired codes', async () => {
      const owner = await registerUser(api, 'owner');
      const user = await registerUser(api, 'user');
      const { id } = await createWorkspace(owner);
      const code = await invite(owner, id, { expiresInHours: 1 });
      await database.query("UPDATE invites SET expires_at = now() - interval '1 second' WHERE code = $1", [code]);
      for (const candidate of [code, 'no-such-code', 'x'.repeat(300)]) {
        const response = await api.post(`/api/invites/${candidate}/accept`, undefined, user.accessToken);
        expect(response.status).toBe(404);
        expect(response.body.code).toBe('NOT_FOUND');
      }
      expect((await api.get('/api/workspaces', user.accessToken)).body).toEqual([]);
    });

    it('honours maxUses under concurrent accepts', async () => {
      const owner = await registerUser(api, 'owner');
      const { id } = await createWorkspace(owner);
      const code = await invite(owner, id, { maxUses: 3 });
      const users = await Promise.all([1, 2, 3, 4, 5].map((n) => registerUser(api, `racer${n}`)));
      const answers = await Promise.all(
        users.map((user) => api.post(`/api/invites/${code}/accept`, undefined, user.accessToken)),
      );
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 200, 200, 404, 404]);
      const uses = await database.query('SELECT uses FROM invites WHERE code = $1', [code]);
      expect(uses.rows[0].uses).toBe(3);
      const members = await api.get(`/api/workspaces/${id}/members`, owner.accessToken);
      expect(members.body).toHaveLength(4);
    });
  });

  describe('OpenAPI', () => {
    it('documents every REST path of PROTOCOL.md with bearer auth', async () => {
      const response = await api.get('/docs-json');
      expect(response.status).toBe(200);
      const paths = response.body.paths as Record<string, Record<string, { security?: unknown[] }>>;
      const expected: [string, string][] = [
        ['post', '/api/auth/register'],
        ['post', '/api/auth/login'],
        ['post', '/api/auth/refresh'],
        ['post', '/api/auth/logout'],
        ['get', '/api/me'],
        ['post', '/api/workspaces'],
        ['get', '/api/workspaces'],
        ['get', '/api/workspaces/{wid}'],
        ['get', '/api/workspaces/{wid}/members'],
        ['patch', '/api/workspaces/{wid}/members/{uid}'],
        ['delete', '/api/workspaces/{wid}/members/{uid}'],
        ['post', '/api/workspaces/{wid}/invites'],
        ['post', '/api/invites/{code}/accept'],
        ['post', '/api/workspaces/{wid}/channels'],
        ['get', '/api/workspaces/{wid}/channels'],
        ['post', '/api/workspaces/{wid}/channels/{cid}/join'],
        ['post', '/api/workspaces/{wid}/channels/{cid}/members'],
        ['delete', '/api/workspaces/{wid}/channels/{cid}/members/{uid}'],
        ['post', '/api/workspaces/{wid}/dms'],
        ['post', '/api/workspaces/{wid}/channels/{cid}/topics'],
        ['get', '/api/workspaces/{wid}/channels/{cid}/topics'],
        ['get', '/api/workspaces/{wid}/channels/{cid}/messages'],
        ['post', '/api/workspaces/{wid}/channels/{cid}/messages'],
        ['get', '/api/workspaces/{wid}/channels/{cid}/events'],
        ['post', '/api/workspaces/{wid}/channels/{cid}/voice'],
        ['get', '/api/voice/{voiceId}'],
        ['get', '/api/voice/{voiceId}/audio'],
        ['post', '/api/me/push-subscriptions'],
        ['get', '/api/push/vapid-public-key'],
        ['post', '/api/workspaces/{wid}/webhooks'],
        ['get', '/api/workspaces/{wid}/webhooks/{id}/deliveries'],
        ['get', '/health/live'],
        ['get', '/health/ready'],
      ];
      const missing = expected
        .filter(([method, path]) => !paths[path]?.[method])
        .map(([method, path]) => `${method} ${path}`);
      expect(missing).toEqual([]);
      for (const [method, path] of expected.filter(
        ([, path]) => path.startsWith('/api/workspaces') || path.startsWith('/api/invites'),
      )) {
        expect(paths[path][method].security).toEqual([{ bearer: [] }]);
      }
    });
  });
});
