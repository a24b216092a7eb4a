import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Api, registerUser, TestUser } from './support/api';
import { addMember, createWorkspace, rawSocket, ReadySocket, sleep, TestWorkspace } from './support/fixtures';
import { startServer, TestServer } from './support/server';

interface Result {
  message: { id: string; body: string; kind: string; voice: { transcript: string | null; status: string } | null };
  channelId: string;
  topicId: string | null;
  seq: number;
  snippet: string;
}
/** A 200 answer, or an error body (code, message) for the others. */
interface Page {
  results: Result[];
  nextCursor: string | null;
  code?: string;
  message?: string;
}

const POCKETSPHINX = '/usr/bin/pocketsphinx_continuous';
const ESPEAK = '/usr/bin/espeak-ng';

describe('search', () => {
  let server: TestServer;
  let worker: TestServer;
  let api: Api;
  let team: TestWorkspace;
  let member: TestUser;
  let storageDir: string;

  beforeAll(async () => {
    storageDir = mkdtempSync(join(tmpdir(), 'pigeon-search-store-'));
    const env = {
      VOICE_STORAGE_DIR: storageDir,
      SEARCH_RATE_BURST: '60',
      SEND_RATE_BURST: '1000',
      SEARCH_RATE_PER_SECOND: '30',
      ...(existsSync(POCKETSPHINX) ? { TRANSCRIBE_CMD: `${POCKETSPHINX} -logfn /dev/null -infile {wav}` } : {}),
    };
    [server, worker] = await Promise.all([startServer(env), startServer(env, 'worker.js')]);
    api = new Api(server.url);
    team = await createWorkspace(api);
    member = await addMember(api, team, 'member');
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), worker?.stop()]);
    rmSync(storageDir, { recursive: true, force: true });
  });

  const word = () => `w${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  const send = async (user: TestUser, channelId: string, body: string, topicId?: string) => {
    const response = await api.post(
      `/api/workspaces/${team.id}/channels/${channelId}/messages`,
      { clientMsgId: randomUUID(), body, ...(topicId ? { topicId } : {}) },
      user.accessToken,
    );
    expect(response.status).toBe(201);
    return response.body as { id: string; seq: number };
  };
  const search = (user: TestUser, q: string, extra: Record<string, string> = {}, workspaceId = team.id) =>
    api.get<Page>(`/api/workspaces/${workspaceId}/search?${new URLSearchParams({ q, ...extra })}`, user.accessToken);
  const channel = async (name: string, kind: 'public' | 'private', memberIds: string[] = []) => {
    const created = await api.post(`/api/workspaces/${team.id}/channels`, { name, kind, memberIds }, team.owner.accessToken);
    expect(created.status).toBe(201);
    return created.body.id as string;
  };

  it('finds a message by a word, with a channel, seq and an HTML-safe <mark> snippet', async () => {
    const needle = word();
    const sent = await send(team.owner, team.generalId, `${needle} if 1 < 2 & <b>deploy</b> now`);
    const found = await search(member, needle);
    expect(found.status).toBe(200);
    expect(found.body.nextCursor).toBeNull();
    expect(found.body.results).toHaveLength(1);
    const [hit] = found.body.results;
    expect(hit).toMatchObject({ channelId: team.generalId, seq: sent.seq, topicId: null });
    expect(hit.message).toMatchObject({ id: sent.id, body: `${needle} if 1 < 2 & <b>deploy</b> now` });
    expect(hit.snippet).toContain(`<mark>${needle}</mark>`);
    // ts_headline drops what looks like a tag; everything else is escaped, so only <mark> is markup.
    expect(hit.snippet).toContain('&lt;');
    expect(hit.snippet).toContain('&amp;');
    expect(hit.snippet.replace(/<\/?mark>/g, '')).not.toMatch(/[<>]/);
  });

  it('supports phrases, or and -word', async () => {
    const [a, b, c] = [word(), word(), word()];
    const first = await send(team.owner, team.generalId, `${a} ${b} together`);
    const second = await send(team.owner, team.generalId, `${b} ${a} reversed`);
    const third = await send(team.owner, team.generalId, `${c} alone`);
    const ids = async (q: string) => ((await search(member, q)).body.results ?? []).map((r) => r.message.id).sort();
    expect(await ids(`"${a} ${b}"`)).toEqual([first.id]);
    expect(await ids(`${a} -reversed`)).toEqual([first.id]);
    expect(await ids(`${c} or ${b}`)).toEqual([first.id, second.id, third.id].sort());
  });

  it('ranks the denser match first, then newest first on equal rank', async () => {
    const needle = word();
    const weak = await send(team.owner, team.generalId, `${needle} once among many other words in a long message about nothing much`);
    const strong = await send(team.owner, team.generalId, `${needle} ${needle} ${needle}`);
    const older = await send(team.owner, team.generalId, `${needle} twin`);
    const newer = await send(team.owner, team.generalId, `${needle} twin`);
    const order = (await search(member, needle)).body.results.map((r) => r.message.id);
    expect(order[0]).toBe(strong.id);
    expect(order.indexOf(newer.id)).toBeLessThan(order.indexOf(older.id));
    expect(order[order.length - 1]).toBe(weak.id);
  });

  it('pages with an opaque cursor bound to its search', async () => {
    const needle = word();
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) sent.push((await send(team.owner, team.generalId, `${needle} number ${i}`)).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof search>> = await search(member, needle, { limit: '2', ...(cursor ? { cursor } : {}) });
      expect(page.status).toBe(200);
      expect(page.body.results.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.results.map((r) => r.message.id));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect([...seen].sort()).toEqual([...sent].sort());
    const firstPage = await search(member, needle, { limit: '2' });
    const reused = await search(member, `${needle} other`, { cursor: firstPage.body.nextCursor! });
    expect(reused.status).toBe(400);
    expect(reused.body.code).toBe('VALIDATION');
  });

  it('filters by channel, author, topic, voice and dates, as params and inline operators', async () => {
    const needle = word();
    const side = await channel(`side-${needle.slice(1, 7)}`, 'public', [member.id]);
    const topic = await api.post(`/api/workspaces/${team.id}/channels/${side}/topics`, { title: 'Plans' }, team.owner.accessToken);
    expect(topic.status).toBe(201);
    const inGeneral = await send(team.owner, team.generalId, `${needle} in general`);
    const bySide = await send(member, side, `${needle} in side`, topic.body.id);
    const ids = async (q: string, extra: Record<string, string> = {}) => {
      const response = await search(member, q, extra);
      expect(response.status).toBe(200);
      return response.body.results.map((r) => r.message.id);
    };
    expect(await ids(needle, { channelId: side })).toEqual([bySide.id]);
    expect(await ids(`${needle} in:#side-${needle.slice(1, 7)}`)).toEqual([bySide.id]);
    expect(await ids(needle, { authorId: team.owner.id })).toEqual([inGeneral.id]);
    expect(await ids(`${needle} from:@${member.id}`)).toEqual([bySide.id]);
    expect(await ids(`${needle} from:@member`)).toEqual([bySide.id]);
    expect(await ids(needle, { topicId: topic.body.id })).toEqual([bySide.id]);
    expect(await ids(`${needle} has:voice`)).toEqual([]);
    expect(await ids(needle, { hasVoice: 'false' })).toHaveLength(2);
    expect(await ids(`${needle} before:2000-01-01`)).toEqual([]);
    expect(await ids(`${needle} after:2000-01-01`)).toHaveLength(2);
    expect(await ids(needle, { after: new Date(Date.now() + 3600_000).toISOString() })).toEqual([]);
    // Only filters: newest first.
    expect((await ids(`in:#side-${needle.slice(1, 7)} from:@${member.id}`))[0]).toBe(bySide.id);
  });

  it('finds mentions with mentions:@user', async () => {
    const needle = word();
    const mention = await send(team.owner, team.generalId, `${needle} ping <@${member.id}> please`);
    await send(team.owner, team.generalId, `${needle} nobody mentioned`);
    const found = await search(member, `${needle} mentions:@${member.id}`);
    expect(found.body.results.map((r) => r.message.id)).toEqual([mention.id]);
  });

  it('shows only channels the caller is a member of now: outsider, non-member, private, DM, removed member', async () => {
    const needle = word();
    const outsider = await registerUser(api, 'outsider');
    const stranger = await addMember(api, team, 'stranger');
    const quiet = await channel(`quiet-${needle.slice(1, 7)}`, 'public');
    const secret = await channel(`secret-${needle.slice(1, 7)}`, 'private', [member.id]);
    const dm = await api.post(`/api/workspaces/${team.id}/dms`, { userIds: [member.id] }, team.owner.accessToken);
    expect([200, 201]).toContain(dm.status);
    await send(team.owner, quiet, `${needle} public but not joined`);
    const inSecret = await send(team.owner, secret, `${needle} private`);
    const inDm = await send(team.owner, dm.body.id, `${needle} direct`);
    const inGeneral = await send(team.owner, team.generalId, `${needle} general`);

    const outsiderSearch = await search(outsider, needle);
    expect(outsiderSearch.status).toBe(404);
    expect(outsiderSearch.body.code).toBe('NOT_FOUND');
    // Another workspace's id with the caller's own workspace data: nothing leaks across tenants.
    const otherTeam = await createWorkspace(api, outsider);
    expect((await search(outsider, needle, {}, otherTeam.id)).body.results).toEqual([]);

    expect((await search(stranger, needle)).body.results.map((r) => r.message.id)).toEqual([inGeneral.id]);
    expect((await search(stranger, needle, { channelId: secret })).status).toBe(404);
    expect((await search(stranger, `${needle} in:#secret-${needle.slice(1, 7)}`)).status).toBe(404);

    const memberIds = (await search(member, needle)).body.results.map((r) => r.message.id).sort();
    expect(memberIds).toEqual([inSecret.id, inDm.id, inGeneral.id].sort());

    const removed = await api.delete(`/api/workspaces/${team.id}/channels/${secret}/members/${member.id}`, team.owner.accessToken);
    expect(removed.status).toBe(204);
    expect((await search(member, needle)).body.results.map((r) => r.message.id).sort()).toEqual([inDm.id, inGeneral.id].sort());

    const gone = await api.delete(`/api/workspaces/${team.id}/members/${stranger.id}`, team.owner.accessToken);
    expect(gone.status).toBe(204);
    expect((await search(stranger, needle)).status).toBe(404);
  });

  it('finds edited messages by their new text and deleted ones never', async () => {
    const [before, after, doomed] = [word(), word(), word()];
    const socket: ReadySocket = await rawSocket(server.url, team.owner.accessToken);
    try {
      const edited = await send(team.owner, team.generalId, `${before} draft`);
      const deleted = await send(team.owner, team.generalId, `${doomed} soon gone`);
      const editAck = await socket.timeout(5000).emitWithAck('message:edit', { messageId: edited.id, body: `${after} final` });
      expect(editAck.ok).toBe(true);
      const deleteAck = await socket.timeout(5000).emitWithAck('message:delete', { messageId: deleted.id });
      expect(deleteAck.ok).toBe(true);
      expect((await search(member, before)).body.results).toEqual([]);
      expect((await search(member, after)).body.results.map((r) => r.message.id)).toEqual([edited.id]);
      expect((await search(member, doomed)).body.results).toEqual([]);
    } finally {
      socket.close();
    }
  });

  it.each([
    ['', 'empty'],
    [' '.repeat(3), 'blank'],
    ['x'.repeat(201), 'over 200 characters'],
    ['"unclosed phrase', 'broken quote'],
    ['hello color:red', 'unknown filter'],
    ['hello has:files', 'unknown has'],
    ['hello before:2026-02-30', 'impossible date'],
    ['hello after:yesterday', 'bad date'],
  ])('answers VALIDATION to q=%j (%s)', async (q) => {
    const response = await search(member, q);
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('VALIDATION');
    expect(response.body.message).toEqual(expect.any(String));
  });

  it.each([
    [{ cursor: 'not-a-cursor' }],
    [{ cursor: Buffer.from('["1","2","3","4"]').toString('base64url') }],
    [{ limit: '0' }],
    [{ limit: '51' }],
    [{ before: 'last week' }],
    [{ channelId: 'nope' }],
    [{ hasVoice: 'maybe' }],
    [{ sort: 'asc' }],
  ])('answers VALIDATION to bad params %j', async (extra) => {
    const response = await search(member, 'hello', extra);
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('VALIDATION');
  });

  it('treats URLs as words, not filters, and answers a query of only punctuation with VALIDATION', async () => {
    expect((await search(member, 'see https://example.com/x')).status).toBe(200);
    const punctuation = await search(member, '!!! ???');
    expect(punctuation.status).toBe(400);
    expect(punctuation.body.code).toBe('VALIDATION');
  });

  it('needs a token and limits searches per user', async () => {
    const anonymous = await api.get(`/api/workspaces/${team.id}/search?q=hello`);
    expect(anonymous.status).toBe(401);
    const busy = await addMember(api, team, 'busy');
    const statuses = await Promise.all(Array.from({ length: 70 }, () => search(busy, 'hello').then((r) => r.status)));
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
  });

  it('lets owners and admins change the text search configuration (english stems words)', async () => {
    const own = await createWorkspace(api);
    const general = own.generalId;
    const sent = await api.post(
      `/api/workspaces/${own.id}/channels/${general}/messages`,
      { clientMsgId: randomUUID(), body: 'the runners were running quickly' },
      own.owner.accessToken,
    );
    expect(sent.status).toBe(201);
    const find = (q: string) => api.get<Page>(`/api/workspaces/${own.id}/search?${new URLSearchParams({ q })}`, own.owner.accessToken);
    expect((await find('run')).body.results).toEqual([]);
    const bad = await api.patch(`/api/workspaces/${own.id}`, { searchConfig: 'klingon' }, own.owner.accessToken);
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION');
    const ordinary = await addMember(api, own, 'plain');
    expect((await api.patch(`/api/workspaces/${own.id}`, { searchConfig: 'english' }, ordinary.accessToken)).status).toBe(403);
    const changed = await api.patch(`/api/workspaces/${own.id}`, { searchConfig: 'english' }, own.owner.accessToken);
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({ id: own.id, searchConfig: 'english' });
    expect((await find('run')).body.results.map((r) => r.message.id)).toEqual([sent.body.id]);
  });

  it('is documented in OpenAPI with its parameters, answers and bearer auth', async () => {
    const docs = await api.get('/docs-json');
    expect(docs.status).toBe(200);
    const operation = docs.body.paths['/api/workspaces/{wid}/search']?.get;
    expect(operation).toBeDefined();
    expect(operation.security).toEqual([{ bearer: [] }]);
    expect(operation.description).toEqual(expect.stringContaining('websearch'));
    expect(Object.keys(operation.responses).sort()).toEqual(['200', '400', '401', '404', '429']);
    const params = Object.fromEntries((operation.parameters as { name: string; schema: { format?: string } }[]).map((p) => [p.name, p]));
    expect(Object.keys(params).sort()).toEqual(['after', 'authorId', 'before', 'channelId', 'cursor', 'hasVoice', 'limit', 'q', 'topicId', 'wid'].sort());
    for (const id of ['wid', 'channelId', 'authorId', 'topicId']) expect(params[id].schema.format).toBe('uuid');
    expect(docs.body.paths['/api/workspaces/{wid}']?.patch).toBeDefined();
  });

  // Plumbing, not accuracy: espeak-ng speech through the real pocketsphinx engine.
  const speech = existsSync(POCKETSPHINX) && existsSync(ESPEAK) ? it : it.skip;
  speech('transcribes voice messages, announces the transcript and searches it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pigeon-speech-'));
    try {
      const wav = join(dir, 'speech.wav');
      const words = ['one', 'two', 'three', 'four', 'five', 'six'];
      execFileSync(ESPEAK, ['-v', 'en-us', '-s', '120', '-g', '4', '-p', '40', '-w', wav, words.join(' ')]);
      const socket: ReadySocket = await rawSocket(server.url, member.accessToken);
      const updates: { id: string; voice: { transcript: string | null } | null }[] = [];
      socket.on('event', (event: { type: string; data: { id: string; voice: { transcript: string | null } | null } }) => {
        if (event.type === 'message.updated') updates.push(event.data);
      });
      try {
        const form = new FormData();
        form.append('clientMsgId', randomUUID());
        form.append('file', new Blob([new Uint8Array(readFileSync(wav))]), 'speech.wav');
        const uploaded = await fetch(`${server.url}/api/workspaces/${team.id}/channels/${team.generalId}/voice`, {
          method: 'POST',
          headers: { authorization: `Bearer ${team.owner.accessToken}` },
          body: form,
        });
        expect(uploaded.status).toBe(202);
        const message = (await uploaded.json()) as { id: string };
        const deadline = Date.now() + 60_000;
        while (!updates.some((u) => u.id === message.id && u.voice?.transcript) && Date.now() < deadline) await sleep(100);
        const update = updates.find((u) => u.id === message.id && u.voice?.transcript);
        expect(update).toBeDefined();
        const transcript = update!.voice!.transcript!.toLowerCase();
        const heard = words.filter((w) => transcript.split(/\s+/).includes(w));
        // pocketsphinx hears espeak-ng poorly; two of six digits proves the audio reached the engine.
        expect(heard.length).toBeGreaterThanOrEqual(2);
        const found = await search(member, `${heard[0]} has:voice`);
        expect(found.status).toBe(200);
        const hit = found.body.results.find((r) => r.message.id === message.id);
        expect(hit).toBeDefined();
        expect(hit!.message.kind).toBe('voice');
        expect(hit!.snippet).toContain(`<mark>${heard[0]}</mark>`);
      } finally {
        socket.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
