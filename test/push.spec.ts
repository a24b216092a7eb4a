import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, randomUUID, verify } from 'node:crypto';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { Api, TestUser } from './support/api';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './support/env';
import { addMember, createWorkspace, rawSocket, ReadySocket, sleep, TestWorkspace, waitFor } from './support/fixtures';
import { startServer, TestServer } from './support/server';

interface PushRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A loopback push service: each path answers the next status of its script (the last one repeats; 201 by default). */
async function pushService(): Promise<{
  origin: string;
  received: PushRequest[];
  script: Map<string, number[]>;
  to: (path: string) => PushRequest[];
  close: () => Promise<void>;
}> {
  const received: PushRequest[] = [];
  const script = new Map<string, number[]>();
  const to = (path: string) => received.filter((r) => r.path === path);
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '';
      received.push({ path, headers: request.headers, body: Buffer.concat(chunks) });
      const statuses = script.get(path) ?? [201];
      response.statusCode = statuses[Math.min(to(path).length - 1, statuses.length - 1)];
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    script,
    to,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const b64url = (bytes: Buffer) => bytes.toString('base64url');

/** What a browser holds for one subscription: its ECDH P-256 pair and the 16-byte auth secret (RFC 8291). */
function browserKeys() {
  const ecdh = createECDH('prime256v1');
  const publicKey = ecdh.generateKeys();
  const auth = randomBytes(16);
  return { ecdh, publicKey, auth, json: { p256dh: b64url(publicKey), auth: b64url(auth) } };
}
type BrowserKeys = ReturnType<typeof browserKeys>;

/** RFC 8188 / RFC 8291 decryption of a one-record aes128gcm body. */
function decrypt(body: Buffer, keys: BrowserKeys): unknown {
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const keyIdLength = body[20];
  const serverPublic = body.subarray(21, 21 + keyIdLength);
  const record = body.subarray(21 + keyIdLength);
  expect(keyIdLength).toBe(65);
  expect(record.length).toBeLessThanOrEqual(recordSize);
  const sharedSecret = keys.ecdh.computeSecret(serverPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), keys.publicKey, serverPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', sharedSecret, keys.auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  // The last record ends with the delimiter 0x02, then zero or more 0x00 of padding.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  expect(padded[end]).toBe(2);
  return JSON.parse(padded.subarray(0, end).toString('utf8'));
}

/** Checks `Authorization: vapid t=<jwt>, k=<key>`: the ES256 signature under k, and aud = the endpoint's origin. */
function verifyVapid(headers: IncomingHttpHeaders, origin: string, expectedKey: string): void {
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(String(headers.authorization));
  expect(match).not.toBeNull();
  const [, jwt, key] = match!;
  expect(key).toBe(expectedKey);
  const [header, claims, signature] = jwt.split('.');
  expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toMatchObject({ alg: 'ES256', typ: 'JWT' });
  const raw = Buffer.from(key, 'base64url');
  expect(raw).toHaveLength(65);
  const publicKey = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64url(raw.subarray(1, 33)), y: b64url(raw.subarray(33, 65)) },
    format: 'jwk',
  });
  const signed = Buffer.from(`${header}.${claims}`);
  expect(
    verify('sha256', signed, { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url')),
  ).toBe(true);
  const payload = JSON.parse(Buffer.from(claims, 'base64url').toString());
  expect(payload.aud).toBe(origin);
  expect(payload.sub).toMatch(/^mailto:|^https:/);
  expect(payload.exp).toBeGreaterThan(Date.now() / 1000);
}

// Push jobs live in a Redis database of their own, so a worker of another test run or a dev stack on the
// same Redis cannot take them. Retries are fast here: 50 ms base delay instead of 2 s.
const REDIS_DB = 1 + Math.floor(Math.random() * 15);
const ENV = {
  REDIS_URL: `${TEST_REDIS_URL.replace(/\/\d*$/, '')}/${REDIS_DB}`,
  PUSH_BACKOFF_BASE_MS: '50',
  ALLOW_PRIVATE_TARGETS: 'true',
};

describe('push notifications', () => {
  let server: TestServer;
  let worker: TestServer;
  let api: Api;
  let team: TestWorkspace;
  let service: Awaited<ReturnType<typeof pushService>>;
  let db: Client;
  let vapidKey: string;
  const sockets: ReadySocket[] = [];

  beforeAll(async () => {
    [server, worker, service] = await Promise.all([startServer(ENV), startServer(ENV, 'worker.js'), pushService()]);
    api = new Api(server.url);
    team = await createWorkspace(api);
    db = new Client({ connectionString: process.env.TEST_DATABASE_URL ?? TEST_DATABASE_URL });
    await db.connect();
    const key = await api.get('/api/push/vapid-public-key');
    expect(key.status).toBe(200);
    vapidKey = key.body.publicKey;
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await Promise.all([server?.stop(), worker?.stop(), service?.close(), db?.end()]);
  });

  /** A workspace member with a push subscription at `<service>/<path>`. */
  const subscriber = async (name: string) => {
    const user = await addMember(api, team, name);
    const keys = browserKeys();
    const path = `/push/${name}-${randomUUID()}`;
    const created = await api.post(
      '/api/me/push-subscriptions',
      { endpoint: service.origin + path, keys: keys.json, expirationTime: null },
      user.accessToken,
    );
    expect(created.status).toBe(201);
    return { user, keys, path, endpoint: service.origin + path, subscriptionId: created.body.id as string };
  };
  const online = async (user: TestUser) => {
    sockets.push(await rawSocket(server.url, user.accessToken));
    // The socket is counted in Redis just after `ready`.
    for (let i = 0; i < 100; i++) {
      const members = await api.get(`/api/workspaces/${team.id}/members`, team.owner.accessToken);
      if (members.body.find((m: { userId: string }) => m.userId === user.id)?.presence === 'online') return;
      await sleep(20);
    }
    throw new Error('never online');
  };
  const send = async (channelId: string, body: string, author = team.owner) => {
    const sent = await api.post(
      `/api/workspaces/${team.id}/channels/${channelId}/messages`,
      { clientMsgId: randomUUID(), body },
      author.accessToken,
    );
    expect(sent.status).toBe(201);
    return sent.body as { id: string; seq: number };
  };
  const dm = async (user: TestUser) => {
    const created = await api.post(`/api/workspaces/${team.id}/dms`, { userIds: [user.id] }, team.owner.accessToken);
    expect([200, 201]).toContain(created.status);
    return created.body.id as string;
  };

  it('pushes a mention to an offline member, encrypted and VAPID-signed, and nothing to an online one', async () => {
    const away = await subscriber('away');
    const here = await subscriber('here');
    await online(here.user);

    const plain = await send(team.generalId, 'just chatting, nobody in particular');
    const message = await send(team.generalId, `ping <@${away.user.id}> and <@${here.user.id}>`);
    await waitFor(() => service.to(away.path).length >= 1, 20_000, 'the push to the offline member');
    // Jobs for both messages have had time to run (they run side by side): nothing else may arrive.
    await sleep(1500);
    expect(service.to(away.path)).toHaveLength(1);
    expect(service.to(here.path)).toHaveLength(0);

    const [request] = service.to(away.path);
    expect(request.headers['content-encoding']).toBe('aes128gcm');
    expect(request.headers['content-type']).toBe('application/octet-stream');
    expect(Number(request.headers.ttl)).toBe(86400);
    verifyVapid(request.headers, service.origin, vapidKey);
    const payload = decrypt(request.body, away.keys);
    expect(payload).toEqual({
      type: 'message',
      workspaceId: team.id,
      channelId: team.generalId,
      messageId: message.id,
      title: 'owner · #general',
      body: 'ping @away and @here',
    });
    expect((payload as { messageId: string }).messageId).not.toBe(plain.id);
  });

  it('pushes every DM to an offline member, none to an online one, and follows notification levels', async () => {
    const away = await subscriber('dmaway');
    const here = await subscriber('dmhere');
    await online(here.user);
    const awayDm = await dm(away.user);
    const hereDm = await dm(here.user);

    const message = await send(awayDm, 'psst, got a minute?');
    await send(hereDm, 'you are online, no push for you');
    await waitFor(() => service.to(away.path).length >= 1, 20_000, 'the DM push');
    expect(decrypt(service.to(away.path)[0].body, away.keys)).toEqual({
      type: 'message',
      workspaceId: team.id,
      channelId: awayDm,
      messageId: message.id,
      title: 'owner · Direct message',
      body: 'psst, got a minute?',
    });

    // `none` silences even DMs; `all` makes any channel message a push.
    const levels = (channelId: string) => `/api/workspaces/${team.id}/channels/${channelId}/notifications`;
    const muted = await api.request('PUT', levels(awayDm), { body: { level: 'none' }, token: away.user.accessToken });
    expect(muted.status).toBe(200);
    expect(muted.body).toEqual({ channelId: awayDm, level: 'none' });
    const all = await api.request('PUT', levels(team.generalId), {
      body: { level: 'all' },
      token: away.user.accessToken,
    });
    expect(all.status).toBe(200);
    await send(awayDm, 'muted DM');
    const chatter = await send(team.generalId, 'plain chatter for everyone at level all');
    await waitFor(() => service.to(away.path).length >= 2, 20_000, 'the push at level all');
    await sleep(1500);
    expect(service.to(away.path)).toHaveLength(2);
    expect(decrypt(service.to(away.path)[1].body, away.keys)).toMatchObject({
      messageId: chatter.id,
      title: 'owner · #general',
      body: 'plain chatter for everyone at level all',
    });
    expect(service.to(here.path)).toHaveLength(0);

    const bad = await api.request('PUT', levels(awayDm), { body: { level: 'loud' }, token: away.user.accessToken });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION');
    // Not a member of that DM: it does not exist for them.
    const stranger = await api.request('PUT', levels(awayDm), { body: { level: 'all' }, token: here.user.accessToken });
    expect(stranger.status).toBe(404);
    expect(stranger.body.code).toBe('NOT_FOUND');
  });

  it('pushes only to members of the channel: a mention in a DM or private channel of others reaches no one outside', async () => {
    const outsider = await subscriber('outsider');
    const peer = await addMember(api, team, 'peer');
    const others = await dm(peer);
    const secret = await api.post(
      `/api/workspaces/${team.id}/channels`,
      { name: `hush-${randomUUID().slice(0, 8)}`, kind: 'private', memberIds: [peer.id] },
      team.owner.accessToken,
    );
    expect(secret.status).toBe(201);
    await send(others, `DM that names <@${outsider.user.id}>`);
    await send(secret.body.id, `private channel that names <@${outsider.user.id}>`);
    const visible = await send(team.generalId, `general names <@${outsider.user.id}>`);
    await waitFor(() => service.to(outsider.path).length >= 1, 20_000, 'the general push');
    await sleep(1500);
    expect(service.to(outsider.path)).toHaveLength(1);
    expect(decrypt(service.to(outsider.path)[0].body, outsider.keys)).toMatchObject({ messageId: visible.id });
  });

  it('retries a 5xx, and deletes the subscription on 410', async () => {
    const flaky = await subscriber('flaky');
    const gone = await subscriber('gone');
    // The same user's second device, whose push service works at once.
    const steadyKeys = browserKeys();
    const steadyPath = `/push/steady-${randomUUID()}`;
    const steady = await api.post(
      '/api/me/push-subscriptions',
      { endpoint: service.origin + steadyPath, keys: steadyKeys.json },
      flaky.user.accessToken,
    );
    expect(steady.status).toBe(201);
    service.script.set(flaky.path, [503, 201]);
    service.script.set(gone.path, [410]);

    const count = async (endpoint: string) =>
      Number(
        (await db.query('SELECT count(*) AS n FROM push_subscriptions WHERE endpoint = $1', [endpoint])).rows[0].n,
      );
    expect(await count(gone.endpoint)).toBe(1);
    await send(await dm(flaky.user), 'second time lucky');
    await send(await dm(gone.user), 'anyone there?');
    await waitFor(() => service.to(flaky.path).length >= 2, 20_000, 'the retried push');
    await waitFor(() => service.to(gone.path).length >= 1, 20_000, 'the push to a gone subscription');
    for (let i = 0; i < 100 && (await count(gone.endpoint)) > 0; i++) await sleep(50);
    expect(await count(gone.endpoint)).toBe(0);
    expect(await count(flaky.endpoint)).toBe(1);
    await sleep(1000);
    // The retry sent the same notification once more, and only to the subscription that failed.
    expect(service.to(flaky.path)).toHaveLength(2);
    expect(service.to(steadyPath)).toHaveLength(1);
    expect(decrypt(service.to(steadyPath)[0].body, steadyKeys)).toMatchObject({ body: 'second time lucky' });
    expect(service.to(gone.path)).toHaveLength(1);
    const [first, second] = service.to(flaky.path).map((r) => decrypt(r.body, flaky.keys));
    expect(second).toEqual(first);
  });

  it('upserts by endpoint and removes with DELETE', async () => {
    const user = await addMember(api, team, 'upsert');
    const other = await addMember(api, team, 'upsert2');
    const endpoint = `${service.origin}/push/upsert-${randomUUID()}`;
    const first = await api.post(
      '/api/me/push-subscriptions',
      { endpoint, keys: browserKeys().json },
      user.accessToken,
    );
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ id: expect.any(String), endpoint, expirationTime: null });
    const expiresAt = Date.now() + 86_400_000;
    // Same browser, another account signs in: the endpoint moves to them.
    const again = await api.post(
      '/api/me/push-subscriptions',
      { endpoint, keys: browserKeys().json, expirationTime: expiresAt },
      other.accessToken,
    );
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ id: first.body.id, endpoint, expirationTime: expiresAt });
    const owners = await db.query('SELECT user_id FROM push_subscriptions WHERE endpoint = $1', [endpoint]);
    expect(owners.rows).toEqual([{ user_id: other.id }]);

    // Someone else's endpoint is left alone; the owner's DELETE removes it; a repeat is still 204.
    const foreign = await api.request('DELETE', '/api/me/push-subscriptions', {
      body: { endpoint },
      token: user.accessToken,
    });
    expect(foreign.status).toBe(204);
    expect((await db.query('SELECT 1 FROM push_subscriptions WHERE endpoint = $1', [endpoint])).rowCount).toBe(1);
    for (const expected of [204, 204]) {
      const removed = await api.request('DELETE', '/api/me/push-subscriptions', {
        body: { endpoint },
        token: other.accessToken,
      });
      expect(removed.status).toBe(expected);
    }
    expect((await db.query('SELECT 1 FROM push_subscriptions WHERE endpoint = $1', [endpoint])).rowCount).toBe(0);
  });

  it('serves the VAPID public key without auth', async () => {
    expect(vapidKey).toMatch(/^[A-Za-z0-9_-]{87}$/);
    expect(Buffer.from(vapidKey, 'base64url')[0]).toBe(4);
    // The worker signs with the same pair (checked by verifyVapid above); a second look is stable.
    expect((await api.get('/api/push/vapid-public-key')).body).toEqual({ publicKey: vapidKey });
  });

  it('refuses bad subscription bodies with VALIDATION and field details', async () => {
    const keys = browserKeys().json;
    const endpoint = `${service.origin}/push/bad`;
    const cases: [unknown, string][] = [
      [{ endpoint, keys: { p256dh: keys.p256dh } }, 'keys.auth'],
      [{ endpoint }, 'keys'],
      [{ endpoint, keys: 'nope' }, 'keys'],
      [{ endpoint, keys: { ...keys, p256dh: keys.p256dh.slice(0, 40) } }, 'keys.p256dh'],
      [{ endpoint, keys: { ...keys, p256dh: keys.p256dh.replace(/^B/, 'C') } }, 'keys.p256dh'],
      [{ endpoint, keys: { ...keys, auth: 'c2hvcnQ' } }, 'keys.auth'],
      [{ endpoint, keys: { ...keys, auth: `${keys.auth.slice(0, 21)}+` } }, 'keys.auth'],
      [{ endpoint: 'ftp://example.com/push', keys }, 'endpoint'],
      [{ endpoint: 'not a url', keys }, 'endpoint'],
      [{ endpoint: 42, keys }, 'endpoint'],
      [{ endpoint, keys, expirationTime: 'tomorrow' }, 'expirationTime'],
      [{ endpoint, keys: { ...keys, extra: 1 } }, 'keys.extra'],
      [{ endpoint, keys, extra: true }, 'extra'],
    ];
    for (const [body, field] of cases) {
      const response = await api.post('/api/me/push-subscriptions', body, team.owner.accessToken);
      expect({ body, status: response.status, code: response.body.code }).toEqual({
        body,
        status: 400,
        code: 'VALIDATION',
      });
      expect(response.body.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    const anonymous = await api.post('/api/me/push-subscriptions', { endpoint, keys });
    expect(anonymous.status).toBe(401);
  });
});
