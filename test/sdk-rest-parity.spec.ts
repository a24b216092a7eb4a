import { randomUUID } from 'node:crypto';
import { Api, TestUser } from './support/api';
import { addMember, createWorkspace, rawSocket, ReadySocket, TestWorkspace, waitFor } from './support/fixtures';
import { startServer, TestServer } from './support/server';

type Envelope = { seq: number; type: string; data: { id: string; body: string; reactions: { emoji: string; userIds: string[] }[]; deletedAt: string | null } };

describe('REST parity with the socket (edit, delete, reactions, read mark)', () => {
  let server: TestServer;
  let api: Api;
  let team: TestWorkspace;
  let member: TestUser;
  let other: TestWorkspace;
  let socket: ReadySocket;
  const events: Envelope[] = [];
  const reads: { userId: string; seq: number }[] = [];
  const base = () => `/api/workspaces/${team.id}/channels/${team.generalId}`;
  const send = async (token: string, body = 'hello') => {
    const response = await api.post(`${base()}/messages`, { clientMsgId: randomUUID(), body }, token);
    expect(response.status).toBe(201);
    return response.body as { id: string; seq: number };
  };

  beforeAll(async () => {
    server = await startServer({ SEND_RATE_BURST: '100000', SEND_RATE_PER_SECOND: '100000' });
    api = new Api(server.url);
    team = await createWorkspace(api);
    member = await addMember(api, team);
    other = await createWorkspace(api);
    socket = await rawSocket(server.url, team.owner.accessToken);
    socket.on('event', (event: Envelope) => events.push(event));
    socket.on('read', (read: { userId: string; seq: number }) => reads.push(read));
  });
  afterAll(async () => {
    socket.close();
    await server.stop();
  });

  it('PATCH edits the author\'s message with a message.updated event; another author is FORBIDDEN; bad bodies VALIDATION', async () => {
    const message = await send(team.owner.accessToken, 'first text');
    const edited = await api.patch(`${base()}/messages/${message.id}`, { body: '  edited text  ' }, team.owner.accessToken);
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ id: message.id, seq: message.seq, body: 'edited text' });
    expect(edited.body.editedAt).toEqual(expect.any(String));
    await waitFor(() => events.some((e) => e.type === 'message.updated' && e.data.id === message.id && e.data.body === 'edited text'), 5000, 'message.updated');

    const foreign = await api.patch(`${base()}/messages/${message.id}`, { body: 'mine now' }, member.accessToken);
    expect(foreign.status).toBe(403);
    expect(foreign.body.code).toBe('FORBIDDEN');

    for (const body of [{ body: '   ' }, {}, { body: 'x', extra: 1 }]) {
      const invalid = await api.patch(`${base()}/messages/${message.id}`, body, team.owner.accessToken);
      expect(invalid.status).toBe(400);
      expect(invalid.body.code).toBe('VALIDATION');
    }
  });

  it('another workspace, another channel or an unknown id answers NOT_FOUND on every new endpoint', async () => {
    const message = await send(team.owner.accessToken);
    const stranger = other.owner.accessToken;
    const paths: [string, string, unknown?][] = [
      ['PATCH', `${base()}/messages/${message.id}`, { body: 'x' }],
      ['DELETE', `${base()}/messages/${message.id}`],
      ['PUT', `${base()}/messages/${message.id}/reactions/${encodeURIComponent('👍')}`],
      ['DELETE', `${base()}/messages/${message.id}/reactions/${encodeURIComponent('👍')}`],
      ['PUT', `${base()}/read`, { seq: 1 }],
    ];
    for (const [method, path, body] of paths) {
      const response = await api.request(method, path, { body, token: stranger });
      expect([method, path, response.status, response.body.code]).toEqual([method, path, 404, 'NOT_FOUND']);
    }
    // The stranger's own workspace and channel in the path, this message's id: still nothing there.
    const crossPath = `/api/workspaces/${other.id}/channels/${other.generalId}/messages/${message.id}`;
    const cross = await api.patch(crossPath, { body: 'x' }, stranger);
    expect([cross.status, cross.body.code]).toEqual([404, 'NOT_FOUND']);
    const unknown = await api.delete(`${base()}/messages/${randomUUID()}`, team.owner.accessToken);
    expect([unknown.status, unknown.body.code]).toEqual([404, 'NOT_FOUND']);
    const notUuid = await api.delete(`${base()}/messages/not-a-uuid`, team.owner.accessToken);
    expect(notUuid.status).toBe(404);
  });

  it('PUT/DELETE reactions answer 204, idempotently, with one event per real change', async () => {
    const message = await send(member.accessToken);
    const emoji = encodeURIComponent('🎉');
    const path = `${base()}/messages/${message.id}/reactions/${emoji}`;
    const updatesFor = () => events.filter((e) => e.type === 'message.updated' && e.data.id === message.id).length;
    expect((await api.request('PUT', path, { token: team.owner.accessToken })).status).toBe(204);
    await waitFor(() => updatesFor() === 1, 5000, 'reaction event');
    expect(events.filter((e) => e.data.id === message.id).at(-1)?.data.reactions).toEqual([{ emoji: '🎉', count: 1, userIds: [team.owner.id] }]);
    expect((await api.request('PUT', path, { token: team.owner.accessToken })).status).toBe(204);
    expect((await api.delete(path, team.owner.accessToken)).status).toBe(204);
    expect((await api.delete(path, team.owner.accessToken)).status).toBe(204);
    await waitFor(() => updatesFor() === 2, 5000, 'reaction removal event');
    const history = await api.get(`${base()}/messages?after=${message.seq - 1}&limit=1`, team.owner.accessToken);
    expect(history.body.messages[0].reactions).toEqual([]);
    const tooLong = await api.request('PUT', `${base()}/messages/${message.id}/reactions/${'x'.repeat(33)}`, { token: team.owner.accessToken });
    expect([tooLong.status, tooLong.body.code]).toEqual([400, 'VALIDATION']);
  });

  it('DELETE answers 204 (author or admin), keeps id and seq, is a no-op twice; a plain member may not delete others', async () => {
    const mine = await send(team.owner.accessToken);
    const forbidden = await api.delete(`${base()}/messages/${mine.id}`, member.accessToken);
    expect([forbidden.status, forbidden.body.code]).toEqual([403, 'FORBIDDEN']);
    const theirs = await send(member.accessToken);
    expect((await api.delete(`${base()}/messages/${theirs.id}`, team.owner.accessToken)).status).toBe(204);
    await waitFor(() => events.some((e) => e.type === 'message.deleted' && e.data.id === theirs.id), 5000, 'message.deleted');
    const deletedEvents = () => events.filter((e) => e.type === 'message.deleted' && e.data.id === theirs.id).length;
    expect((await api.delete(`${base()}/messages/${theirs.id}`, member.accessToken)).status).toBe(204);
    const history = await api.get(`${base()}/messages?after=${theirs.seq - 1}&limit=1`, team.owner.accessToken);
    expect(history.body.messages[0]).toMatchObject({ id: theirs.id, seq: theirs.seq, body: '' });
    expect(deletedEvents()).toBe(1);
  });

  it('PUT read answers {lastReadSeq}, never moves back or past the head, and emits read', async () => {
    const last = await send(team.owner.accessToken);
    const first = await api.request('PUT', `${base()}/read`, { body: { seq: last.seq }, token: member.accessToken });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ lastReadSeq: last.seq });
    await waitFor(() => reads.some((r) => r.userId === member.id && r.seq === last.seq), 5000, 'read event');
    const back = await api.request('PUT', `${base()}/read`, { body: { seq: 1 }, token: member.accessToken });
    expect(back.body).toEqual({ lastReadSeq: last.seq });
    const future = await api.request('PUT', `${base()}/read`, { body: { seq: last.seq + 1000 }, token: member.accessToken });
    expect(future.body.lastReadSeq).toBeLessThan(last.seq + 1000);
    const channels = await api.get(`/api/workspaces/${team.id}/channels`, member.accessToken);
    expect(channels.body.find((c: { id: string }) => c.id === team.generalId).lastReadSeq).toBe(future.body.lastReadSeq);
    for (const body of [{ seq: -1 }, { seq: 'x' }, {}]) {
      const invalid = await api.request('PUT', `${base()}/read`, { body, token: member.accessToken });
      expect([invalid.status, invalid.body.code]).toEqual([400, 'VALIDATION']);
    }
  });

  it('an unauthenticated call answers UNAUTHORIZED', async () => {
    const response = await api.request('PUT', `${base()}/read`, { body: { seq: 1 } });
    expect([response.status, response.body.code]).toEqual([401, 'UNAUTHORIZED']);
  });
});
