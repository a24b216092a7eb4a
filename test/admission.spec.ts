import { Api } from './support/api';
import { createWorkspace, rawSocket, sdkClient } from './support/fixtures';
import { startServer, TestServer } from './support/server';

/**
 * Handshake admission control on a real server: a node that may bootstrap one socket at a time with
 * no waiting line refuses the rest of a burst RATE_LIMITED with a retry hint (instead of timing them
 * out), and SDK clients that get that answer come back after the hint until every one is ready.
 */
describe('connect admission', () => {
  let server: TestServer;
  let api: Api;
  beforeAll(async () => {
    server = await startServer({ CONNECT_ADMISSION_CONCURRENCY: '1', CONNECT_ADMISSION_QUEUE: '0', SOCKETS_PER_USER_MAX: '100' });
    api = new Api(server.url);
  });
  afterAll(() => server.stop());

  it('refuses a burst beyond the line RATE_LIMITED with retryAfterMs, and admits the rest', async () => {
    const team = await createWorkspace(api);
    const attempts = await Promise.allSettled(Array.from({ length: 30 }, () => rawSocket(server.url, team.owner.accessToken)));
    const ready = attempts.filter((a) => a.status === 'fulfilled');
    const refused = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
    expect(ready.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const r of refused) {
      expect((r.reason as Error & { data?: unknown }).data).toEqual({ code: 'RATE_LIMITED', message: expect.any(String), retryAfterMs: expect.any(Number) });
    }
    for (const a of ready) (a as PromiseFulfilledResult<Awaited<ReturnType<typeof rawSocket>>>).value.close();
  });

  it('SDK clients told to come back later all get ready, none gives up', async () => {
    const team = await createWorkspace(api);
    const clients = Array.from({ length: 12 }, () => sdkClient(server.url, team.owner.accessToken));
    const errors: string[] = [];
    for (const c of clients) c.on('error', (e: Error & { code?: string }) => errors.push(e.code ?? e.message));
    try {
      const readies = await Promise.all(clients.map((c) => c.connect()));
      expect(readies.every((r) => r.userId === team.owner.id)).toBe(true);
      // Every background error was a refusal with a hint, never a final one.
      expect(errors.every((code) => code === 'RATE_LIMITED')).toBe(true);
    } finally {
      for (const c of clients) c.disconnect();
    }
  }, 60_000);
});
