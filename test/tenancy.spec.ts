import { randomUUID } from 'node:crypto';
import { Api, registerUser, TestUser, uniqueSlug } from './support/api';
import { startServer, TestServer } from './support/server';

/**
 * Tenant isolation: someone outside workspace A learns nothing about it. Every path of A, called
 * with A's real ids by a member of another workspace, answers 404 NOT_FOUND, never 403.
 */
describe('tenancy (REST)', () => {
  let server: TestServer;
  let api: Api;
  let ownerA: TestUser;
  let memberA: TestUser;
  let outsider: TestUser;
  let ids: {
    workspaceA: string;
    workspaceB: string;
    publicA: string;
    privateA: string;
    dmA: string;
    topicA: string;
    messageA: string;
    channelB: string;
  };

  beforeAll(async () => {
    server = await startServer();
    api = new Api(server.url);
    ownerA = await registerUser(api, 'owner-a');
    memberA = await registerUser(api, 'member-a');
    outsider = await registerUser(api, 'owner-b');
    const workspaceA = (await api.post('/api/workspaces', { name: 'A', slug: uniqueSlug('a') }, ownerA.accessToken))
      .body.id;
    const workspaceB = (await api.post('/api/workspaces', { name: 'B', slug: uniqueSlug('b') }, outsider.accessToken))
      .body.id;
    const code = (await api.post(`/api/workspaces/${workspaceA}/invites`, {}, ownerA.accessToken)).body.code;
    await api.post(`/api/invites/${code}/accept`, undefined, memberA.accessToken);
    const publicA = (
      await api.post(
        `/api/workspaces/${workspaceA}/channels`,
        { name: 'open', kind: 'public', memberIds: [memberA.id] },
        ownerA.accessToken,
      )
    ).body.id;
    const privateA = (
      await api.post(`/api/workspaces/${workspaceA}/channels`, { name: 'secret', kind: 'private' }, ownerA.accessToken)
    ).body.id;
    const dmA = (await api.post(`/api/workspaces/${workspaceA}/dms`, { userIds: [memberA.id] }, ownerA.accessToken))
      .body.id;
    const topicA = (
      await api.post(
        `/api/workspaces/${workspaceA}/channels/${publicA}/topics`,
        { title: 'A topic' },
        ownerA.accessToken,
      )
    ).body.id;
    const messageA = (
      await api.post(
        `/api/workspaces/${workspaceA}/channels/${publicA}/messages`,
        { clientMsgId: 'a-1', body: 'secret plans' },
        ownerA.accessToken,
      )
    ).body.id;
    const channelB = (await api.get(`/api/workspaces/${workspaceB}/channels`, outsider.accessToken)).body[0].id;
    ids = { workspaceA, workspaceB, publicA, privateA, dmA, topicA, messageA, channelB };
    for (const id of Object.values(ids)) expect(id).toEqual(expect.any(String));
  });
  afterAll(() => server.stop());

  type Call = [method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: () => string, body?: () => unknown];
  const a = () => `/api/workspaces/${ids.workspaceA}`;
  const channelPaths = (channel: () => string): [string, Call][] => [
    ['join', ['POST', () => `${a()}/channels/${channel()}/join`]],
    ['add a member', ['POST', () => `${a()}/channels/${channel()}/members`, () => ({ userId: outsider.id })]],
    ['remove a member', ['DELETE', () => `${a()}/channels/${channel()}/members/${memberA.id}`]],
    ['leave', ['DELETE', () => `${a()}/channels/${channel()}/members/${outsider.id}`]],
    ['create a topic', ['POST', () => `${a()}/channels/${channel()}/topics`, () => ({ title: 'hi' })]],
    ['list topics', ['GET', () => `${a()}/channels/${channel()}/topics`]],
    ['list messages', ['GET', () => `${a()}/channels/${channel()}/messages`]],
    ['list topic messages', ['GET', () => `${a()}/channels/${channel()}/messages?topicId=${ids.topicA}`]],
    [
      'post a message',
      ['POST', () => `${a()}/channels/${channel()}/messages`, () => ({ clientMsgId: randomUUID(), body: 'hi' })],
    ],
    [
      'post a reply',
      [
        'POST',
        () => `${a()}/channels/${channel()}/messages`,
        () => ({ clientMsgId: randomUUID(), body: 'hi', replyToId: ids.messageA }),
      ],
    ],
    ['events', ['GET', () => `${a()}/channels/${channel()}/events`]],
    ['events after 0', ['GET', () => `${a()}/channels/${channel()}/events?after=0`]],
  ];
  const calls: [string, Call][] = [
    ['workspace', ['GET', () => a()]],
    ['members', ['GET', () => `${a()}/members`]],
    ['change a role', ['PATCH', () => `${a()}/members/${memberA.id}`, () => ({ role: 'admin' })]],
    ['promote self', ['PATCH', () => `${a()}/members/${outsider.id}`, () => ({ role: 'owner' })]],
    ['remove a member', ['DELETE', () => `${a()}/members/${memberA.id}`]],
    ['remove the owner', ['DELETE', () => `${a()}/members/${ownerA.id}`]],
    ['leave', ['DELETE', () => `${a()}/members/${outsider.id}`]],
    ['invite', ['POST', () => `${a()}/invites`, () => ({ role: 'member' })]],
    ['create a channel', ['POST', () => `${a()}/channels`, () => ({ name: 'intrusion', kind: 'public' })]],
    ['list channels', ['GET', () => `${a()}/channels`]],
    ['open a DM', ['POST', () => `${a()}/dms`, () => ({ userIds: [memberA.id] })]],
    ...(['publicA', 'privateA', 'dmA'] as const).flatMap((key) =>
      channelPaths(() => ids[key]).map(([label, call]): [string, Call] => [`${key}: ${label}`, call]),
    ),
    // Mixing B's own workspace id with A's ids must not leak either.
    [
      'A channel under B: messages',
      ['GET', () => `/api/workspaces/${ids.workspaceB}/channels/${ids.publicA}/messages`],
    ],
    [
      'A channel under B: post',
      [
        'POST',
        () => `/api/workspaces/${ids.workspaceB}/channels/${ids.publicA}/messages`,
        () => ({ clientMsgId: 'x', body: 'x' }),
      ],
    ],
    ['A channel under B: events', ['GET', () => `/api/workspaces/${ids.workspaceB}/channels/${ids.publicA}/events`]],
    ['A channel under B: join', ['POST', () => `/api/workspaces/${ids.workspaceB}/channels/${ids.publicA}/join`]],
    ['A channel under B: topics', ['GET', () => `/api/workspaces/${ids.workspaceB}/channels/${ids.publicA}/topics`]],
    [
      'A channel under B: add',
      [
        'POST',
        () => `/api/workspaces/${ids.workspaceB}/channels/${ids.publicA}/members`,
        () => ({ userId: outsider.id }),
      ],
    ],
    [
      'A channel under B: remove',
      ['DELETE', () => `/api/workspaces/${ids.workspaceB}/channels/${ids.publicA}/members/${memberA.id}`],
    ],
    [
      'A member into a B channel',
      [
        'POST',
        () => `/api/workspaces/${ids.workspaceB}/channels/${ids.channelB}/members`,
        () => ({ userId: memberA.id }),
      ],
    ],
    [
      'A member in a B channel',
      [
        'POST',
        () => `/api/workspaces/${ids.workspaceB}/channels`,
        () => ({ name: 'lure', kind: 'private', memberIds: [memberA.id] }),
      ],
    ],
    [
      'DM with an A member from B',
      ['POST', () => `/api/workspaces/${ids.workspaceB}/dms`, () => ({ userIds: [memberA.id] })],
    ],
    [
      'A member of B',
      ['PATCH', () => `/api/workspaces/${ids.workspaceB}/members/${memberA.id}`, () => ({ role: 'admin' })],
    ],
    [
      'A topic in B',
      [
        'POST',
        () => `/api/workspaces/${ids.workspaceB}/channels/${ids.channelB}/messages`,
        () => ({ clientMsgId: 'y', body: 'y', topicId: ids.topicA }),
      ],
    ],
    [
      'A message in B',
      [
        'POST',
        () => `/api/workspaces/${ids.workspaceB}/channels/${ids.channelB}/messages`,
        () => ({ clientMsgId: 'z', body: 'z', replyToId: ids.messageA }),
      ],
    ],
  ];

  it.each(calls)('%s answers 404 NOT_FOUND to an outsider', async (_name, [method, path, body]) => {
    const response = await api.request(method, path(), { body: body?.(), token: outsider.accessToken });
    expect({ status: response.status, code: response.body?.code }).toEqual({ status: 404, code: 'NOT_FOUND' });
  });

  it('left workspace A untouched', async () => {
    const members = await api.get(`${a()}/members`, ownerA.accessToken);
    expect(members.body.map((m: { userId: string; role: string }) => [m.userId, m.role])).toEqual([
      [ownerA.id, 'owner'],
      [memberA.id, 'member'],
    ]);
    const channels = await api.get(`${a()}/channels`, ownerA.accessToken);
    expect(channels.body.map((c: { name: string | null }) => c.name)).toEqual(['general', 'open', 'secret', null]);
    const history = await api.get(`${a()}/channels/${ids.publicA}/messages`, ownerA.accessToken);
    expect(history.body.messages.map((m: { id: string }) => m.id)).toEqual([ids.messageA]);
    expect((await api.get('/api/workspaces', outsider.accessToken)).body.map((w: { id: string }) => w.id)).toEqual([
      ids.workspaceB,
    ]);
  });
});
