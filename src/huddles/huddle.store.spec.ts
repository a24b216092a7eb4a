import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { TEST_REDIS_URL } from '../../test/support/env';
import { HuddleParticipant, HuddleStore } from './huddle.store';

/** The Lua scripts against the machine's real Redis, under a key prefix of their own. */
describe(HuddleStore.name, () => {
  let redis: Redis;
  let sut: HuddleStore;
  const channelId = randomUUID();
  const participant = (socketId: string, at = new Date().toISOString()): HuddleParticipant => ({ userId: `u-${socketId}`, socketId, muted: false, speaking: false, joinedAt: at });
  const join = (socketId: string, options: { cap?: number; leaseMs?: number; id?: string } = {}) =>
    sut.join(channelId, participant(socketId), { workspaceId: 'w', cap: options.cap ?? 3, leaseMs: options.leaseMs ?? 10_000, newHuddleId: options.id ?? randomUUID() });

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL, { keyPrefix: `huddle-store-spec-${randomUUID()}:` });
    sut = new HuddleStore(redis);
  });
  afterAll(async () => {
    await redis.del(`huddle:{${channelId}}:p`, `huddle:{${channelId}}:lease`, `huddle:{${channelId}}:meta`, 'huddle:active');
    await redis.quit();
  });
  afterEach(async () => {
    for (const socketId of ['a', 'b', 'c', 'd']) await sut.leave(channelId, socketId);
  });

  it('joins in order up to the cap, keeps one id per huddle and bumps rev on each change', async () => {
    const first = await join('a', { id: 'h1' });
    expect(first).toMatchObject({ status: 'joined', huddleId: 'h1', workspaceId: 'w', rev: 1 });
    expect((await join('a', { id: 'other' })).status).toBe('already');
    await join('b', { id: 'h-ignored' });
    const third = await join('c');
    expect(third).toMatchObject({ status: 'joined', huddleId: 'h1', rev: 3 });
    expect(third.participants.map((p) => p.socketId)).toEqual(['a', 'b', 'c']);
    expect((await join('d')).status).toBe('full');
    expect(await sut.update(channelId, 'b', 'muted', true)).toMatchObject({ status: 'changed', rev: 4 });
    expect(await sut.update(channelId, 'b', 'muted', true)).toMatchObject({ status: 'same', rev: 4 });
    expect((await sut.update(channelId, 'd', 'muted', true)).status).toBe('missing');
    const left = await sut.leave(channelId, 'a');
    expect(left).toMatchObject({ removed: true, huddleId: 'h1', rev: 5 });
    expect(left.participants.find((p) => p.socketId === 'b')?.muted).toBe(true);
    expect((await sut.leave(channelId, 'a')).removed).toBe(false);
  });

  it('the last leave ends the huddle: the next join starts a new id at rev 1', async () => {
    await join('a', { id: 'old' });
    const ended = await sut.leave(channelId, 'a');
    expect(ended).toMatchObject({ removed: true, huddleId: 'old', participants: [] });
    expect(await sut.state(channelId)).toEqual({ huddleId: null, workspaceId: null, rev: 0, participants: [] });
    expect(await join('b', { id: 'new' })).toMatchObject({ huddleId: 'new', rev: 1 });
  });

  it('drops participants whose lease ran out (sweep, or the next join); renewal reports the swept', async () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await join('a', { leaseMs: 60_000 });
    await join('b', { leaseMs: 100 });
    await sleep(400);
    expect(await sut.renew(channelId, ['a', 'gone'], 60_000)).toEqual(['gone']);
    const swept = (await sut.sweep()).find((s) => s.channelId === channelId);
    expect(swept?.participants.map((p) => p.socketId)).toEqual(['a']);
    expect((await sut.sweep()).find((s) => s.channelId === channelId)).toBeUndefined();
    // A join purges expired participants before counting toward the cap.
    await join('c', { leaseMs: 100 });
    await sleep(400);
    const joined = await join('d', { cap: 2 });
    expect(joined).toMatchObject({ status: 'joined', purged: 1 });
    expect(joined.participants.map((p) => p.socketId)).toEqual(['a', 'd']);
  });
});
