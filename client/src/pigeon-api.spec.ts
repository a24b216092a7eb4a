import { PigeonApi, type Session } from './pigeon-api';
import { PigeonError } from './errors';

/** An unsigned JWT-shaped token: the SDK only reads `iat`/`exp` to decide when to refresh. */
function jwt(expiresInS: number, id: string, lifetimeS = 900): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256' })}.${part({ sub: 'u1', iat: now + expiresInS - lifetimeS, exp: now + expiresInS, id })}.sig`;
}

interface Call {
  method: string;
  url: string;
  authorization?: string;
  body?: unknown;
}

/** A fetch stand-in that records calls and answers from `route`. */
function fakeFetch(route: (call: Call, index: number) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    let body: unknown = init?.body;
    if (typeof body === 'string') body = JSON.parse(body);
    const call: Call = { method: init?.method ?? 'GET', url: String(input), authorization: headers.authorization, body };
    calls.push(call);
    await new Promise((resolve) => setTimeout(resolve, 5));
    return route(call, calls.length - 1);
  }) as typeof fetch;
  return { calls, fetchImpl };
}

const json = (status: number, body: unknown) =>
  new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe(PigeonApi.name, () => {
  it('ten concurrent calls with an expiring token refresh once (single flight) and all use the new token', async () => {
    const fresh = jwt(900, 'fresh');
    const { calls, fetchImpl } = fakeFetch((call) => {
      if (call.url.endsWith('/api/auth/refresh')) return json(200, { accessToken: fresh, refreshToken: 'r2' });
      return json(200, { id: 'u1', email: 'a@b.c', displayName: 'A' });
    });
    const sessions: (Session | null)[] = [];
    const sut = new PigeonApi({ baseUrl: 'http://pigeon.test/', session: { accessToken: jwt(10, 'old'), refreshToken: 'r1' }, fetch: fetchImpl, onSession: (s) => sessions.push(s) });

    const results = await Promise.all(Array.from({ length: 10 }, () => sut.me()));

    expect(results).toHaveLength(10);
    expect(calls.filter((c) => c.url.endsWith('/auth/refresh'))).toEqual([expect.objectContaining({ body: { refreshToken: 'r1' }, authorization: undefined })]);
    expect(calls.filter((c) => c.url.endsWith('/api/me')).map((c) => c.authorization)).toEqual(Array(10).fill(`Bearer ${fresh}`));
    expect(sut.session()).toEqual({ accessToken: fresh, refreshToken: 'r2' });
    expect(sessions).toEqual([{ accessToken: fresh, refreshToken: 'r2' }]);
  });

  it('refreshes through the gate, and adopts a session another tab renewed instead of spending the token again', async () => {
    const renewed = { accessToken: jwt(900, 'other-tab'), refreshToken: 'r-other' };
    let shared: Session | null = null;
    const gated: string[] = [];
    const { calls, fetchImpl } = fakeFetch((call) => {
      if (call.url.endsWith('/auth/refresh')) return json(200, { accessToken: jwt(900, 'mine'), refreshToken: 'r2' });
      return json(200, { id: 'u1', email: 'a@b.c', displayName: 'A' });
    });
    const sut = new PigeonApi({
      baseUrl: 'http://pigeon.test',
      session: { accessToken: jwt(10, 'old'), refreshToken: 'r1' },
      fetch: fetchImpl,
      refreshGate: async (refresh) => {
        gated.push('in');
        return refresh();
      },
      loadSession: () => shared,
    });

    // The other tab renewed while this one waited: no refresh call, its session is used.
    shared = renewed;
    await sut.me();
    expect(gated).toEqual(['in']);
    expect(calls.filter((c) => c.url.endsWith('/auth/refresh'))).toHaveLength(0);
    expect(calls.at(-1)?.authorization).toBe(`Bearer ${renewed.accessToken}`);
    expect(sut.session()).toEqual(renewed);

    // Nobody renewed: this tab spends its own refresh token, inside the gate.
    sut.adopt({ accessToken: jwt(10, 'old-again'), refreshToken: 'r3' });
    shared = null;
    await sut.me();
    expect(gated).toEqual(['in', 'in']);
    expect(calls.filter((c) => c.url.endsWith('/auth/refresh')).map((c) => c.body)).toEqual([{ refreshToken: 'r3' }]);
  });

  it('ten concurrent calls that all get a 401 refresh once and are each retried once', async () => {
    const old = jwt(900, 'old');
    const fresh = jwt(900, 'fresh');
    const { calls, fetchImpl } = fakeFetch((call) => {
      if (call.url.endsWith('/auth/refresh')) return json(200, { accessToken: fresh, refreshToken: 'r2' });
      return call.authorization === `Bearer ${fresh}` ? json(200, []) : json(401, { statusCode: 401, code: 'UNAUTHORIZED', message: 'expired' });
    });
    const sut = new PigeonApi({ baseUrl: 'http://pigeon.test', session: { accessToken: old, refreshToken: 'r1' }, fetch: fetchImpl });

    await Promise.all(Array.from({ length: 10 }, () => sut.workspaces.list()));

    expect(calls.filter((c) => c.url.endsWith('/auth/refresh'))).toHaveLength(1);
    expect(calls.filter((c) => c.url.endsWith('/api/workspaces'))).toHaveLength(20);
  });

  it('a second 401 is final, and a refused refresh ends the session', async () => {
    const { calls, fetchImpl } = fakeFetch((call) =>
      call.url.endsWith('/auth/refresh')
        ? json(401, { statusCode: 401, code: 'UNAUTHORIZED', message: 'spent' })
        : json(401, { statusCode: 401, code: 'UNAUTHORIZED', message: 'no' }),
    );
    const sessions: (Session | null)[] = [];
    const sut = new PigeonApi({ baseUrl: 'http://pigeon.test', session: { accessToken: jwt(900, 'a'), refreshToken: 'r1' }, fetch: fetchImpl, onSession: (s) => sessions.push(s) });

    const error = (await sut.me().catch((e: unknown) => e)) as PigeonError;

    expect(error).toBeInstanceOf(PigeonError);
    expect([error.code, error.status]).toEqual(['UNAUTHORIZED', 401]);
    expect(calls.map((c) => c.url.replace('http://pigeon.test/api', ''))).toEqual(['/me', '/auth/refresh']);
    expect(sut.session()).toBeNull();
    expect(sessions).toEqual([null]);
    await expect(sut.accessToken()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('turns every failure into a PigeonError with code, status, message, details and retryAfterMs', async () => {
    const answers = [
      json(400, { statusCode: 400, code: 'VALIDATION', message: 'body must not be empty', details: [{ field: 'body', message: 'empty' }] }),
      json(429, { statusCode: 429, code: 'RATE_LIMITED', message: 'slow down', retryAfterMs: 1234 }),
      new Response('<html>bad gateway</html>', { status: 502 }),
      new Response('not json', { status: 200 }),
    ];
    const { fetchImpl } = fakeFetch((_call, index) => answers[index]);
    const sut = new PigeonApi({ baseUrl: 'http://pigeon.test', session: { accessToken: jwt(900, 'a'), refreshToken: 'r' }, fetch: fetchImpl });
    const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as PigeonError);

    expect(await failure(sut.messages.send('w', 'c', { clientMsgId: 'x', body: ' ' }))).toMatchObject({
      code: 'VALIDATION',
      status: 400,
      message: 'body must not be empty',
      details: [{ field: 'body', message: 'empty' }],
    });
    expect(await failure(sut.messages.send('w', 'c', { clientMsgId: 'x', body: 'y' }))).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryAfterMs: 1234 });
    expect(await failure(sut.me())).toMatchObject({ code: 'INTERNAL', status: 502 });
    expect(await failure(sut.me())).toMatchObject({ code: 'BAD_RESPONSE', status: 200 });

    const offline = new PigeonApi({ baseUrl: 'http://pigeon.test', session: { accessToken: jwt(900, 'a'), refreshToken: 'r' }, fetch: (async () => { throw new TypeError('fetch failed'); }) as typeof fetch });
    expect(await failure(offline.me())).toMatchObject({ name: 'PigeonError', code: 'NETWORK', status: 0, message: 'fetch failed' });
  });

  it('history yields every message newest to oldest across pages', async () => {
    const all = Array.from({ length: 7 }, (_, i) => ({ id: `m${i + 1}`, seq: i + 1 }));
    const { calls, fetchImpl } = fakeFetch((call) => {
      const url = new URL(call.url);
      const before = Number(url.searchParams.get('before') ?? Infinity);
      const limit = Number(url.searchParams.get('limit'));
      const older = all.filter((m) => m.seq < before);
      const page = older.slice(-limit);
      return json(200, { messages: page, hasMore: older.length > page.length });
    });
    const sut = new PigeonApi({ baseUrl: 'http://pigeon.test', session: { accessToken: jwt(900, 'a'), refreshToken: 'r' }, fetch: fetchImpl });

    const seen: number[] = [];
    for await (const message of sut.messages.history('w', 'c', { limit: 3 })) seen.push(message.seq);

    expect(seen).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(calls.map((c) => new URL(c.url).search)).toEqual(['?limit=3', '?limit=3&before=5', '?limit=3&before=2']);
  });

  it('encodes path segments (an emoji reaction) and makes audio URLs absolute', async () => {
    const { calls, fetchImpl } = fakeFetch(() => new Response(null, { status: 204 }));
    const sut = new PigeonApi({ baseUrl: 'http://pigeon.test:3000/', session: { accessToken: jwt(900, 'a'), refreshToken: 'r' }, fetch: fetchImpl });

    await expect(sut.messages.react('w', 'c', 'm', '👍')).resolves.toBeUndefined();

    expect(calls[0]).toMatchObject({ method: 'PUT', url: 'http://pigeon.test:3000/api/workspaces/w/channels/c/messages/m/reactions/%F0%9F%91%8D' });
    expect(sut.voice.audioUrl('/api/voice/v1/audio?expires=1&sig=abc')).toBe('http://pigeon.test:3000/api/voice/v1/audio?expires=1&sig=abc');
    expect(sut.voice.audioUrl({ id: 'v1', status: 'ready', mimeType: 'audio/ogg', durationMs: 1, waveform: null, url: '/api/voice/v1/audio?sig=x', transcript: null }, 'aac')).toBe(
      'http://pigeon.test:3000/api/voice/v1/audio?sig=x&format=aac',
    );
    expect(() => sut.voice.audioUrl({ id: 'v1', status: 'failed', mimeType: null, durationMs: null, waveform: null, url: null, transcript: null })).toThrow(PigeonError);
  });

  it('uploads bytes and streams as multipart with progress up to the total', async () => {
    const received: string[] = [];
    const { fetchImpl } = fakeFetch(async (call) => {
      expect(call.authorization).toMatch(/^Bearer /);
      return json(202, { id: 'm1', kind: 'voice' });
    });
    // Reads the streamed body the way a real fetch would, so progress is driven by consumption.
    const consuming = (async (input: string | URL | Request, init?: RequestInit) => {
      const chunks: Uint8Array[] = [];
      for await (const chunk of init!.body as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
      received.push(Buffer.concat(chunks).toString('latin1'));
      return fetchImpl(input, { ...init, body: undefined });
    }) as typeof fetch;
    const sut = new PigeonApi({ baseUrl: 'http://pigeon.test', session: { accessToken: jwt(900, 'a'), refreshToken: 'r' }, fetch: consuming });
    const file = Buffer.alloc(200_000, 7);
    const progress: [number, number | undefined][] = [];

    await sut.voice.upload('w', 'c', { file, clientMsgId: 'clip-1' }, { onProgress: (sent, total) => progress.push([sent, total]) });
    async function* stream() {
      yield Buffer.from('abc');
      yield 'def';
    }
    await sut.voice.upload('w', 'c', { file: stream(), clientMsgId: 'clip-2', topicId: 't1' }, { onProgress: (sent, total) => progress.push([sent, total]) });

    expect(progress.slice(0, 5)).toEqual([[0, 200_000], [65_536, 200_000], [131_072, 200_000], [196_608, 200_000], [200_000, 200_000]]);
    expect(progress.slice(5)).toEqual([[0, undefined], [3, undefined], [6, undefined]]);
    expect(received[0]).toContain('name="clientMsgId"\r\n\r\nclip-1\r\n');
    expect(received[0]).toContain('name="file"; filename="voice"');
    expect(received[1]).toMatch(/name="topicId"\r\n\r\nt1\r\n[\s\S]*\r\n\r\nabcdef\r\n--/);
  });
});
