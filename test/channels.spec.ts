import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Api, registerUser, TestUser, uniqueSlug } from './support/api';
import { TEST_DATABASE_URL } from './support/env';
import { startServer, TestServer } from './support/server';

const fieldsOf = (body: { details?: { field: string }[] }) => (body.details ?? []).map((detail) => detail.field);

interface Team {
  id: string;
  owner: TestUser;
  admin: TestUser;
  member: TestUser;
  other: TestUser;
  guest: TestUser;
}

describe('channels, DMs, topics and messages (REST)', () => {
  let server: TestServer;
  let api: Api;
  let database: pg.Client;

  beforeAll(async () => {
    // Pagination tests post more messages than the default burst allows.
    server = await startServer({ SEND_RATE_BURST: '1000', SEND_RATE_PER_SECOND: '1000' });
    api = new Api(server.url);
    database = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await database.connect();
  });
  afterAll(async () => {
    await database.end();
    await server.stop();
  });

  async function newTeam(): Promise<Team> {
    const owner = await registerUser(api, 'owner');
    const created = await api.post('/api/workspaces', { name: 'Team', slug: uniqueSlug() }, owner.accessToken);
    const id: string = created.body.id;
    const joinAs = async (name: string, role: 'admin' | 'member' | 'guest') => {
      const user = await registerUser(api, name);
      const code = (
        await api.post(
          `/api/workspaces/${id}/invites`,
          { role: role === 'guest' ? 'guest' : 'member' },
          owner.accessToken,
        )
      ).body.code;
      expect((await api.post(`/api/invites/${code}/accept`, undefined, user.accessToken)).status).toBe(200);
      if (role === 'admin') await api.patch(`/api/workspaces/${id}/members/${user.id}`, { role }, owner.accessToken);
      return user;
    };
    return {
      id,
      owner,
      admin: await joinAs('admin', 'admin'),
      member: await joinAs('member', 'member'),
      other: await joinAs('other', 'member'),
      guest: await joinAs('guest', 'guest'),
    };
  }

  const channelsPath = (team: Team) => `/api/workspaces/${team.id}/channels`;
  const channelPath = (team: Team, channelId: string) => `/api/workspaces/${team.id}/channels/${channelId}`;

  async function createChannel(team: Team, caller: TestUser, body: object) {
    const response = await api.post(channelsPath(team), body, caller.accessToken);
    expect(response.status).toBe(201);
    return response.body as { id: string; headSeq: number; name: string };
  }

  async function events(team: Team, caller: TestUser, channelId: string, after = 0) {
    const response = await api.get(`${channelPath(team, channelId)}/events?after=${after}`, caller.accessToken);
    expect(response.status).toBe(200);
    return response.body.events as { seq: number; type: string; data: { userId?: string } }[];
  }

  async function post(team: Team, caller: TestUser, channelId: string, body: string, extra: object = {}) {
    return api.post(
      `${channelPath(team, channelId)}/messages`,
      { clientMsgId: randomUUID(), body, ...extra },
      caller.accessToken,
    );
  }

  describe('POST /channels', () => {
    let team: Team;
    beforeAll(async () => (team = await newTeam()));

    it('creates a channel with the creator and memberIds in it, a member.joined each', async () => {
      const created = await api.post(
        channelsPath(team),
        { name: 'design', kind: 'private', memberIds: [team.member.id, team.guest.id] },
        team.owner.accessToken,
      );
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.any(String),
        workspaceId: team.id,
        name: 'design',
        kind: 'private',
        mode: 'chat',
        createdAt: expect.any(String),
        headSeq: 3,
      });
      const log = await events(team, team.guest, created.body.id);
      expect(log.map((event) => event.seq)).toEqual([1, 2, 3]);
      expect(log.every((event) => event.type === 'member.joined')).toBe(true);
      expect(log.map((event) => event.data.userId).sort()).toEqual(
        [team.owner.id, team.member.id, team.guest.id].sort(),
      );
    });

    it('refuses guests (403), a taken name (409) and memberIds outside the workspace (404)', async () => {
      const guest = await api.post(channelsPath(team), { name: 'guest-room', kind: 'public' }, team.guest.accessToken);
      expect(guest.status).toBe(403);
      expect(guest.body.code).toBe('FORBIDDEN');
      await createChannel(team, team.member, { name: 'taken', kind: 'public' });
      const taken = await api.post(channelsPath(team), { name: 'taken', kind: 'private' }, team.admin.accessToken);
      expect(taken.status).toBe(409);
      expect(taken.body.code).toBe('CONFLICT');
      const stranger = await registerUser(api, 'stranger');
      const foreign = await api.post(
        channelsPath(team),
        { name: 'foreign', kind: 'public', memberIds: [stranger.id] },
        team.owner.accessToken,
      );
      expect(foreign.status).toBe(404);
      expect(foreign.body.code).toBe('NOT_FOUND');
      const list = await api.get(channelsPath(team), team.owner.accessToken);
      expect(list.body.map((c: { name: string }) => c.name)).not.toContain('foreign');
    });

    it('validates the body and names the field', async () => {
      const cases: [unknown, string][] = [
        [{ kind: 'public' }, 'name'],
        [{ name: '', kind: 'public' }, 'name'],
        [{ name: 'Has Spaces', kind: 'public' }, 'name'],
        [{ name: 'x'.repeat(81), kind: 'public' }, 'name'],
        [{ name: 5, kind: 'public' }, 'name'],
        [{ name: 'ok' }, 'kind'],
        [{ name: 'ok', kind: 'direct' }, 'kind'],
        [{ name: 'ok', kind: 'public', memberIds: 'nope' }, 'memberIds'],
        [{ name: 'ok', kind: 'public', memberIds: ['not-a-uuid'] }, 'memberIds'],
        [{ name: 'ok', kind: 'public', memberIds: Array.from({ length: 1001 }, () => randomUUID()) }, 'memberIds'],
        [{ name: 'ok', kind: 'public', topic: 'x' }, 'topic'],
      ];
      for (const [body, field] of cases) {
        const response = await api.post(channelsPath(team), body, team.owner.accessToken);
        expect(response.status).toBe(400);
        expect(response.body.code).toBe('VALIDATION');
        expect(fieldsOf(response.body)).toContain(field);
      }
    });
  });

  describe('GET /channels', () => {
    it('lists what the caller may see with read state and unread counts', async () => {
      const team = await newTeam();
      const open = await createChannel(team, team.member, { name: 'open', kind: 'public' });
      const secret = await createChannel(team, team.owner, {
        name: 'secret',
        kind: 'private',
        memberIds: [team.guest.id],
      });
      const dm = (
        await api.post(`/api/workspaces/${team.id}/dms`, { userIds: [team.member.id] }, team.owner.accessToken)
      ).body;

      const ownerView = await api.get(channelsPath(team), team.owner.accessToken);
      expect(ownerView.status).toBe(200);
      expect(ownerView.body.map((c: { name: string | null }) => c.name)).toEqual(['general', 'open', 'secret', null]);
      expect(ownerView.body[1]).toEqual({
        id: open.id,
        workspaceId: team.id,
        name: 'open',
        kind: 'public',
        mode: 'chat',
        createdAt: expect.any(String),
        headSeq: 1,
        lastReadSeq: 0,
        unreadCount: 0,
        unheardCount: 0,
        unheardTopics: [],
        isMember: false,
      });
      expect(ownerView.body[3]).toMatchObject({ id: dm.id, kind: 'direct', isMember: true });

      const memberView = await api.get(channelsPath(team), team.member.accessToken);
      expect(memberView.body.map((c: { id: string }) => c.id)).toEqual([expect.any(String), open.id, dm.id]);
      // Guests see only channels they are in, not every public one.
      const guestView = await api.get(channelsPath(team), team.guest.accessToken);
      expect(guestView.body.map((c: { name: string }) => c.name)).toEqual(['general', 'secret']);

      // Unread: others' messages after lastReadSeq, deleted ones excluded, own ones never.
      await post(team, team.guest, secret.id, 'one');
      await post(team, team.guest, secret.id, 'two');
      const third = await post(team, team.guest, secret.id, 'three');
      await post(team, team.owner, secret.id, 'mine');
      await database.query('UPDATE messages SET deleted_at = now() WHERE id = $1', [third.body.id]);
      let row = (await api.get(channelsPath(team), team.owner.accessToken)).body.find(
        (c: { id: string }) => c.id === secret.id,
      );
      expect(row).toMatchObject({ headSeq: 6, lastReadSeq: 0, unreadCount: 2, isMember: true });
      await database.query('UPDATE channel_members SET last_read_seq = 3 WHERE channel_id = $1 AND user_id = $2', [
        secret.id,
        team.owner.id,
      ]);
      row = (await api.get(channelsPath(team), team.owner.accessToken)).body.find(
        (c: { id: string }) => c.id === secret.id,
      );
      expect(row).toMatchObject({ lastReadSeq: 3, unreadCount: 1 });
    });
  });

  describe('join and channel members', () => {
    let team: Team;
    let open: { id: string };
    let secret: { id: string };
    let dm: { id: string };
    beforeAll(async () => {
      team = await newTeam();
      open = await createChannel(team, team.member, { name: 'open', kind: 'public' });
      secret = await createChannel(team, team.member, { name: 'secret', kind: 'private' });
      dm = (await api.post(`/api/workspaces/${team.id}/dms`, { userIds: [team.member.id] }, team.other.accessToken))
        .body;
    });

    it('joins a public channel once (idempotent), and answers 404 for private channels, DMs and guests', async () => {
      const joined = await api.post(`${channelPath(team, open.id)}/join`, undefined, team.other.accessToken);
      expect(joined.status).toBe(200);
      expect(joined.body).toMatchObject({
        id: open.id,
        workspaceId: team.id,
        name: 'open',
        kind: 'public',
        headSeq: 2,
      });
      const again = await api.post(`${channelPath(team, open.id)}/join`, undefined, team.other.accessToken);
      expect(again.status).toBe(200);
      expect(again.body.headSeq).toBe(2);
      expect((await events(team, team.other, open.id)).filter((e) => e.data.userId === team.other.id)).toHaveLength(1);

      for (const [caller, channelId] of [
        [team.other, secret.id],
        [team.admin, dm.id],
        [team.guest, open.id],
      ] as const) {
        const response = await api.post(`${channelPath(team, channelId)}/join`, undefined, caller.accessToken);
        expect(response.status).toBe(404);
        expect(response.body.code).toBe('NOT_FOUND');
      }
    });

    it('adds members: channel members and admins may, others get 403 or 404, DMs 403', async () => {
      const added = await api.post(
        `${channelPath(team, secret.id)}/members`,
        { userId: team.guest.id },
        team.member.accessToken,
      );
      expect(added.status).toBe(200);
      expect(added.body).toEqual({ channelId: secret.id, userId: team.guest.id });
      const log = await events(team, team.guest, secret.id);
      expect(log[log.length - 1]).toMatchObject({ type: 'member.joined', data: { userId: team.guest.id } });
      // Adding someone already in is a no-op.
      const headBefore = log[log.length - 1].seq;
      expect(
        (await api.post(`${channelPath(team, secret.id)}/members`, { userId: team.guest.id }, team.member.accessToken))
          .status,
      ).toBe(200);
      expect(await events(team, team.guest, secret.id, headBefore)).toEqual([]);

      // An admin need not be in a public channel to manage it.
      const byAdmin = await api.post(
        `${channelPath(team, open.id)}/members`,
        { userId: team.guest.id },
        team.admin.accessToken,
      );
      expect(byAdmin.status).toBe(200);

      const cases: [TestUser, string, string, number][] = [
        [team.owner, open.id, randomUUID(), 404], // not a workspace member
        [team.admin, secret.id, team.other.id, 404], // a private channel the admin cannot see
        [team.owner, dm.id, team.admin.id, 404], // somebody else's DM
        [team.member, dm.id, team.admin.id, 403], // a DM's members are fixed
      ];
      const bystander = await registerUser(api, 'bystander');
      const code = (await api.post(`/api/workspaces/${team.id}/invites`, {}, team.owner.accessToken)).body.code;
      await api.post(`/api/invites/${code}/accept`, undefined, bystander.accessToken);
      cases.push([bystander, open.id, team.owner.id, 403]); // sees the public channel, is not in it
      for (const [caller, channelId, userId, status] of cases) {
        const response = await api.post(`${channelPath(team, channelId)}/members`, { userId }, caller.accessToken);
        expect([channelId, userId, response.status]).toEqual([channelId, userId, status]);
      }
      for (const [body, field] of [
        [{}, 'userId'],
        [{ userId: 'nope' }, 'userId'],
        [{ userId: team.owner.id, role: 'admin' }, 'role'],
      ] as const) {
        const response = await api.post(`${channelPath(team, open.id)}/members`, body, team.member.accessToken);
        expect(response.status).toBe(400);
        expect(fieldsOf(response.body)).toContain(field);
      }
    });

    it('removes members (admins) and lets members leave, with member.left, but never from a DM', async () => {
      const room = await createChannel(team, team.member, {
        name: 'room',
        kind: 'public',
        memberIds: [team.other.id, team.guest.id],
      });
      const remove = (caller: TestUser, target: TestUser, channelId = room.id) =>
        api.delete(`${channelPath(team, channelId)}/members/${target.id}`, caller.accessToken);

      const notAdmin = await remove(team.member, team.other);
      expect(notAdmin.status).toBe(403);
      expect(notAdmin.body.code).toBe('FORBIDDEN');

      const removed = await remove(team.admin, team.other);
      expect(removed.status).toBe(204);
      const log = await events(team, team.member, room.id);
      expect(log[log.length - 1]).toMatchObject({ type: 'member.left', data: { userId: team.other.id } });
      expect((await api.get(`${channelPath(team, room.id)}/messages`, team.other.accessToken)).status).toBe(404);
      expect((await remove(team.admin, team.other)).status).toBe(404);

      expect((await remove(team.guest, team.guest)).status).toBe(204);
      // The guest no longer sees the public channel at all.
      expect((await remove(team.guest, team.guest)).status).toBe(404);

      expect((await remove(team.member, team.member, dm.id)).status).toBe(403);
      expect((await remove(team.owner, team.member, dm.id)).status).toBe(404);
      expect(
        (await api.delete(`${channelPath(team, room.id)}/members/not-a-uuid`, team.admin.accessToken)).status,
      ).toBe(404);
    });
  });

  describe('DMs', () => {
    it('opens one direct channel per set of people: 201 then 200 with the same channel', async () => {
      const team = await newTeam();
      const path = `/api/workspaces/${team.id}/dms`;
      const first = await api.post(path, { userIds: [team.member.id, team.guest.id] }, team.owner.accessToken);
      expect(first.status).toBe(201);
      expect(first.body).toEqual({
        id: expect.any(String),
        workspaceId: team.id,
        name: null,
        kind: 'direct',
        mode: 'chat',
        createdAt: expect.any(String),
        headSeq: 3,
      });
      const same = await api.post(
        path,
        { userIds: [team.owner.id, team.owner.id, team.guest.id] },
        team.member.accessToken,
      );
      expect(same.status).toBe(200);
      expect(same.body).toEqual(first.body);
      const pair = await api.post(path, { userIds: [team.member.id] }, team.owner.accessToken);
      expect(pair.status).toBe(201);
      expect(pair.body.id).not.toBe(first.body.id);

      const racers = await Promise.all(
        [team.admin, team.admin, team.admin, team.other, team.other].map((caller) =>
          api.post(path, { userIds: [caller === team.admin ? team.other.id : team.admin.id] }, caller.accessToken),
        ),
      );
      expect(new Set(racers.map((r) => r.body.id)).size).toBe(1);
      expect(racers.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 201]);
      expect((await events(team, team.admin, racers[0].body.id)).map((e) => e.type)).toEqual([
        'member.joined',
        'member.joined',
      ]);
    });

    it('answers 404 when someone is not a workspace member and validates the ids', async () => {
      const team = await newTeam();
      const path = `/api/workspaces/${team.id}/dms`;
      const stranger = await registerUser(api, 'stranger');
      const foreign = await api.post(path, { userIds: [team.member.id, stranger.id] }, team.owner.accessToken);
      expect(foreign.status).toBe(404);
      expect(foreign.body.code).toBe('NOT_FOUND');
      const cases: [unknown, string][] = [
        [{}, 'userIds'],
        [{ userIds: [] }, 'userIds'],
        [{ userIds: team.member.id }, 'userIds'],
        [{ userIds: ['nope'] }, 'userIds'],
        [{ userIds: Array.from({ length: 9 }, () => randomUUID()) }, 'userIds'],
        [{ userIds: [team.member.id], name: 'x' }, 'name'],
      ];
      for (const [body, field] of cases) {
        const response = await api.post(path, body, team.owner.accessToken);
        expect(response.status).toBe(400);
        expect(fieldsOf(response.body)).toContain(field);
      }
    });
  });

  describe('topics', () => {
    it('creates topics (members only, with topic.created) and lists them by latest activity', async () => {
      const team = await newTeam();
      const room = await createChannel(team, team.member, { name: 'room', kind: 'public' });
      const topicsPath = `${channelPath(team, room.id)}/topics`;
      const first = await api.post(topicsPath, { title: '  Launch  ' }, team.member.accessToken);
      expect(first.status).toBe(201);
      expect(first.body).toEqual({
        id: expect.any(String),
        channelId: room.id,
        workspaceId: team.id,
        title: 'Launch',
        createdBy: team.member.id,
        createdAt: expect.any(String),
        lastActivityAt: first.body.createdAt,
      });
      const log = await events(team, team.member, room.id);
      expect(log[log.length - 1]).toMatchObject({ type: 'topic.created', data: first.body });
      const second = (await api.post(topicsPath, { title: 'Retro' }, team.member.accessToken)).body;

      let list = await api.get(topicsPath, team.member.accessToken);
      expect(list.status).toBe(200);
      expect(list.body.map((t: { id: string }) => t.id)).toEqual([second.id, first.body.id]);
      expect((await post(team, team.member, room.id, 'in launch', { topicId: first.body.id })).status).toBe(201);
      list = await api.get(topicsPath, team.member.accessToken);
      expect(list.body.map((t: { id: string }) => t.id)).toEqual([first.body.id, second.id]);

      // Seeing a public channel is not enough: topics are for its members.
      for (const response of [
        await api.get(topicsPath, team.other.accessToken),
        await api.post(topicsPath, { title: 'x' }, team.other.accessToken),
      ]) {
        expect(response.status).toBe(404);
        expect(response.body.code).toBe('NOT_FOUND');
      }
      for (const [body, field] of [
        [{}, 'title'],
        [{ title: '   ' }, 'title'],
        [{ title: 'x'.repeat(201) }, 'title'],
        [{ title: 3 }, 'title'],
        [{ title: 'ok', pinned: true }, 'pinned'],
      ] as const) {
        const response = await api.post(topicsPath, body, team.member.accessToken);
        expect(response.status).toBe(400);
        expect(fieldsOf(response.body)).toContain(field);
      }
    });
  });

  describe('messages', () => {
    let team: Team;
    let room: { id: string };
    beforeAll(async () => {
      team = await newTeam();
      room = await createChannel(team, team.member, { name: 'room', kind: 'public', memberIds: [team.other.id] });
    });

    it('posts 201, and a retried clientMsgId answers 200 with the same message', async () => {
      const body = { clientMsgId: `retry-${randomUUID()}`, body: '  hello  ' };
      const first = await api.post(`${channelPath(team, room.id)}/messages`, body, team.member.accessToken);
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({
        channelId: room.id,
        workspaceId: team.id,
        authorId: team.member.id,
        body: 'hello',
        kind: 'text',
        seq: expect.any(Number),
      });
      const retry = await api.post(`${channelPath(team, room.id)}/messages`, body, team.member.accessToken);
      expect(retry.status).toBe(200);
      expect(retry.body).toEqual(first.body);
      // The same clientMsgId from another author is another message.
      const other = await api.post(`${channelPath(team, room.id)}/messages`, body, team.other.accessToken);
      expect(other.status).toBe(201);
      expect(other.body.id).not.toBe(first.body.id);
    });

    it('pages history with before/after/limit, every message exactly once, and refuses limits outside 1..200', async () => {
      const channel = await createChannel(team, team.member, {
        name: `pages-${randomUUID().slice(0, 8)}`,
        kind: 'private',
      });
      const posted: string[] = [];
      for (let index = 0; index < 23; index++)
        posted.push((await post(team, team.member, channel.id, `m${index}`)).body.id);
      const path = `${channelPath(team, channel.id)}/messages`;

      const backwards: string[] = [];
      let page = await api.get(`${path}?limit=5`, team.member.accessToken);
      for (;;) {
        expect(page.status).toBe(200);
        const seqs = page.body.messages.map((m: { seq: number }) => m.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        backwards.unshift(...page.body.messages.map((m: { id: string }) => m.id));
        if (!page.body.hasMore) break;
        page = await api.get(`${path}?limit=5&before=${seqs[0]}`, team.member.accessToken);
      }
      expect(backwards).toEqual(posted);

      const forwards: string[] = [];
      let after = 0;
      for (;;) {
        const next = await api.get(`${path}?limit=7&after=${after}`, team.member.accessToken);
        forwards.push(...next.body.messages.map((m: { id: string }) => m.id));
        if (!next.body.hasMore) break;
        after = next.body.messages[next.body.messages.length - 1].seq;
      }
      expect(forwards).toEqual(posted);

      const newest = await api.get(path, team.member.accessToken);
      expect(newest.body.messages).toHaveLength(23);
      expect(newest.body.hasMore).toBe(false);
      for (const query of ['limit=0', 'limit=201', 'limit=abc', 'before=-1']) {
        const response = await api.get(`${path}?${query}`, team.member.accessToken);
        expect(response.status).toBe(400);
        expect(response.body.code).toBe('VALIDATION');
      }
    });

    it('serves /events after a seq in order with headSeq', async () => {
      const channel = await createChannel(team, team.member, {
        name: `log-${randomUUID().slice(0, 8)}`,
        kind: 'private',
        memberIds: [team.other.id],
      });
      await post(team, team.other, channel.id, 'one');
      await post(team, team.member, channel.id, 'two');
      const response = await api.get(`${channelPath(team, channel.id)}/events?after=1`, team.member.accessToken);
      expect(response.status).toBe(200);
      expect(response.body.headSeq).toBe(4);
      expect(response.body.hasMore).toBe(false);
      expect(response.body.events.map((e: { seq: number; type: string }) => [e.seq, e.type])).toEqual([
        [2, 'member.joined'],
        [3, 'message.created'],
        [4, 'message.created'],
      ]);
      expect(response.body.events[1]).toMatchObject({
        workspaceId: team.id,
        channelId: channel.id,
        at: expect.any(String),
        data: { body: 'one' },
      });
      const paged = await api.get(`${channelPath(team, channel.id)}/events?after=0&limit=2`, team.member.accessToken);
      expect(paged.body).toMatchObject({ headSeq: 4, hasMore: true });
      expect(paged.body.events.map((e: { seq: number }) => e.seq)).toEqual([1, 2]);
    });
  });
});
