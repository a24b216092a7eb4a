import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { AppConfigService } from '../src/config/app-config.service';
import type { EventEnvelope } from '../src/messages/message.view';
import type { PushDispatcher } from '../src/notifications/push-dispatcher.service';
import { OutboxRelay, outboxBackoff } from '../src/outbox/outbox.relay';
import { OutboxRepository, recordCommittedEvents, recordVoiceTranscode } from '../src/outbox/outbox.repository';
import type { VoiceJobDispatcher } from '../src/outbox/voice-job.dispatcher';
import type { WebhookDispatcher } from '../src/webhooks/webhook-dispatcher.service';
import { TEST_DATABASE_URL } from './support/env';
import { sleep } from './support/fixtures';

/**
 * Medium tests of the outbox: the repository and the relay against the real Postgres, with the
 * side effects faked (the process tests in outbox.spec.ts run the real ones on a real Redis).
 * Rows are told apart by a workspace id of this file's own; rows of other suites may be claimed too.
 */
describe('outbox relay (real Postgres)', () => {
  let dataSource: DataSource;
  let repo: OutboxRepository;
  const workspaceId = randomUUID();

  beforeAll(async () => {
    dataSource = new DataSource({ type: 'postgres', url: process.env.TEST_DATABASE_URL ?? TEST_DATABASE_URL, extra: { max: 4 } });
    await dataSource.initialize();
    repo = new OutboxRepository(dataSource);
  });
  afterAll(async () => {
    await dataSource?.query('DELETE FROM outbox WHERE workspace_id = $1', [workspaceId]);
    await dataSource?.destroy();
  });

  const mine = async () =>
    (await dataSource.query('SELECT * FROM outbox WHERE workspace_id = $1 ORDER BY id', [workspaceId])) as {
      id: string;
      kind: string;
      channel_id: string | null;
      from_seq: string | null;
      to_seq: string | null;
      ref_id: string | null;
      attempts: number;
      last_error: string | null;
    }[];
  const event = (channelId: string, seq: number): EventEnvelope => ({
    workspaceId,
    channelId,
    seq,
    type: 'message.created',
    at: new Date().toISOString(),
    data: {},
  });

  afterEach(async () => {
    await dataSource.query('DELETE FROM outbox WHERE workspace_id = $1', [workspaceId]);
  });

  it('records one row per channel and seq range, and only if the transaction commits', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await dataSource.transaction((manager) => recordCommittedEvents(manager, [event(a, 7), event(b, 3), event(a, 8), event(a, 9)]));
    await expect(
      dataSource.transaction(async (manager) => {
        await recordCommittedEvents(manager, [event(a, 10)]);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    const rows = await mine();
    expect(rows.map((r) => [r.kind, r.channel_id, Number(r.from_seq), Number(r.to_seq)]).sort()).toEqual(
      [
        ['channel.events', a, 7, 9],
        ['channel.events', b, 3, 3],
      ].sort(),
    );
  });

  it('hands a row to one claimer at a time, and to the next after the lease', async () => {
    for (let i = 0; i < 6; i++) await recordVoiceTranscode(dataSource.manager, { workspaceId, voiceId: randomUUID() });
    const ids = new Set((await mine()).map((r) => r.id));
    const [first, second] = await Promise.all([repo.claim(100, 1000), repo.claim(100, 1000)]);
    const firstMine = first.filter((r) => ids.has(r.id)).map((r) => r.id);
    const secondMine = second.filter((r) => ids.has(r.id)).map((r) => r.id);
    expect(firstMine.filter((id) => secondMine.includes(id))).toEqual([]);
    expect(new Set([...firstMine, ...secondMine])).toEqual(ids);
    // Leased: nobody gets them now; after the lease, they are due again, one more attempt counted.
    expect((await repo.claim(100, 1000)).filter((r) => ids.has(r.id))).toEqual([]);
    await sleep(1200);
    const again = (await repo.claim(100, 1000)).filter((r) => ids.has(r.id));
    expect(new Set(again.map((r) => r.id))).toEqual(ids);
    expect(again.every((r) => r.attempts === 2)).toBe(true);
  });

  it('keeps the rows of a failed side effect for later, with the error, then relays and deletes them', async () => {
    const voiceIds: string[] = [randomUUID(), randomUUID()];
    for (const voiceId of voiceIds) await recordVoiceTranscode(dataSource.manager, { workspaceId, voiceId });
    const seen: string[][] = [];
    let failing = true;
    const voice = {
      dispatch: async (ids: string[]) => {
        seen.push(ids);
        if (failing) throw new Error('Connection is closed.');
      },
    } as unknown as VoiceJobDispatcher;
    const config = { get: (key: string) => ({ OUTBOX_LEASE_MS: 4000, OUTBOX_RELAY: false, OUTBOX_POLL_MS: 1000 })[key] } as unknown as AppConfigService;
    const relay = new OutboxRelay(
      repo,
      { dispatch: async () => undefined } as unknown as WebhookDispatcher,
      { dispatch: async () => undefined } as unknown as PushDispatcher,
      voice,
      config,
    );
    await relay.relayOnce();
    expect(seen.flat()).toEqual(expect.arrayContaining(voiceIds));
    const failed = await mine();
    expect(failed).toHaveLength(2);
    expect(failed.every((r) => r.attempts === 1 && /Connection is closed/.test(r.last_error ?? ''))).toBe(true);
    // Due again after the backoff (about half a second after one failure), not before.
    seen.length = 0;
    await relay.relayOnce();
    expect(seen.flat().filter((id) => voiceIds.includes(id))).toEqual([]);
    failing = false;
    await sleep(700);
    await relay.relayOnce();
    expect(seen.flat()).toEqual(expect.arrayContaining(voiceIds));
    expect(await mine()).toEqual([]);
  });

  it('gives up on a side effect that hangs (a paused Redis) within half the lease', async () => {
    await recordVoiceTranscode(dataSource.manager, { workspaceId, voiceId: randomUUID() });
    const config = { get: (key: string) => ({ OUTBOX_LEASE_MS: 1000 })[key] } as unknown as AppConfigService;
    const relay = new OutboxRelay(
      repo,
      { dispatch: async () => undefined } as unknown as WebhookDispatcher,
      { dispatch: async () => undefined } as unknown as PushDispatcher,
      { dispatch: () => new Promise(() => undefined) } as unknown as VoiceJobDispatcher,
      config,
    );
    await relay.relayOnce();
    const [row] = await mine();
    expect(row.last_error).toMatch(/RelayTimeout/);
  });

  it('backs off by doubling, with jitter, up to 30 s', () => {
    for (let i = 0; i < 50; i++) {
      expect(outboxBackoff(1)).toBeGreaterThanOrEqual(400);
      expect(outboxBackoff(1)).toBeLessThanOrEqual(600);
      expect(outboxBackoff(3)).toBeGreaterThanOrEqual(1600);
      expect(outboxBackoff(3)).toBeLessThanOrEqual(2400);
      expect(outboxBackoff(40)).toBeLessThanOrEqual(36_000);
      expect(outboxBackoff(40)).toBeGreaterThanOrEqual(24_000);
    }
  });
});
