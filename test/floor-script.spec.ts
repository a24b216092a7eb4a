import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { AppConfigService } from '../src/config/app-config.service';
import { FloorRepository } from '../src/floor/floor.repository';
import { TEST_REDIS_PREFIX, TEST_REDIS_URL } from './support/env';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The floor's Lua state machine against the real Redis, without servers (the middle tier). */
describe(FloorRepository.name, () => {
  const prefix = `${TEST_REDIS_PREFIX}:floor-script-${randomUUID().slice(0, 8)}`;
  const limits = { FLOOR_MAX_TALK_MS: 60_000, FLOOR_LEASE_MS: 10_000, FLOOR_END_OF_MEDIA_MS: 2000 };
  let redis: Redis;
  let sut: FloorRepository;

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL, { keyPrefix: `${prefix}:` });
    const config = { get: (key: keyof typeof limits) => limits[key] } as unknown as AppConfigService;
    sut = new FloorRepository(redis, config);
  });
  afterEach(() => Object.assign(limits, { FLOOR_MAX_TALK_MS: 60_000, FLOOR_LEASE_MS: 10_000, FLOOR_END_OF_MEDIA_MS: 2000 }));
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys.map((k) => k.slice(prefix.length + 1)));
    await redis.quit();
  });

  const request = (channelId: string, userId: string, options: { priority?: boolean; node?: string; socketId?: string } = {}) =>
    sut.run(channelId, {
      op: 'request',
      userId,
      node: options.node ?? 'node-a',
      socketId: options.socketId ?? `s-${userId}`,
      priority: options.priority ?? false,
      workspaceId: 'ws',
    });

  it('answers fifty concurrent requests with one grant and positions 1..49, then hands over in that order', async () => {
    const channelId = randomUUID();
    const users = Array.from({ length: 50 }, (_, i) => `user-${i}`);
    const answers = await Promise.all(users.map((u) => request(channelId, u)));
    expect(answers.filter((a) => a.answer === 'granted')).toHaveLength(1);
    const queued = answers.filter((a) => a.answer === 'queued').map((a) => a.position);
    expect([...queued].sort((x, y) => x! - y!)).toEqual(Array.from({ length: 49 }, (_, i) => i + 1));
    const order = answers.map((a, i) => ({ user: users[i], rank: a.position ?? 0 })).sort((x, y) => x.rank - y.rank).map((x) => x.user);
    const revs = new Set(answers.map((a) => a.rev));
    expect(revs.size).toBe(50);
    for (let turn = 0; turn < order.length; turn++) {
      const state = await sut.run(channelId, { op: 'release', userId: order[turn] });
      expect(state.lost).toEqual({ userId: order[turn], reason: 'released' });
      expect(state.holder).toBe(order[turn + 1] ?? null);
      expect(state.queue).toEqual(order.slice(turn + 2));
    }
    const idle = await sut.run(channelId, { op: 'state' });
    expect(idle).toMatchObject({ holder: null, since: null, expiresAt: null, queue: [], changed: false });
    // Every key lives under the prefix.
    expect((await redis.keys(`${prefix}:floor:{${channelId}}*`)).length).toBeGreaterThan(0);
  });

  it('pre-empts on priority without requeueing the holder, and media from anyone but the holder is not_held', async () => {
    const channelId = randomUUID();
    await request(channelId, 'holder');
    await request(channelId, 'waiting');
    expect((await sut.run(channelId, { op: 'media', userId: 'waiting' })).answer).toBe('not_held');
    const taken = await request(channelId, 'admin', { priority: true });
    expect(taken).toMatchObject({ answer: 'granted', holder: 'admin', queue: ['waiting'], lost: { userId: 'holder', reason: 'preempted' } });
    expect((await sut.run(channelId, { op: 'media', userId: 'holder' })).answer).toBe('not_held');
    expect((await sut.run(channelId, { op: 'media', userId: 'admin' })).answer).toBe('ok');
    // Release from someone neither holding nor queued changes nothing.
    expect((await sut.run(channelId, { op: 'release', userId: 'holder' })).changed).toBe(false);
    // end from the queue changes nothing either; release from the queue leaves it.
    expect((await sut.run(channelId, { op: 'end', userId: 'waiting' })).queue).toEqual(['waiting']);
    expect((await sut.run(channelId, { op: 'release', userId: 'waiting' })).queue).toEqual([]);
  });

  it('revokes at the talk time, after end-of-media silence, and when the lease is not renewed by its node', async () => {
    // Margins of hundreds of ms: a loaded machine delays timers, never speeds them up.
    Object.assign(limits, { FLOOR_MAX_TALK_MS: 300, FLOOR_LEASE_MS: 5000, FLOOR_END_OF_MEDIA_MS: 1000 });
    const talk = randomUUID();
    const granted = await request(talk, 'a');
    expect(granted.expiresAt! - granted.since!).toBe(300);
    await request(talk, 'b');
    await sleep(350);
    expect(await sut.run(talk, { op: 'tick' })).toMatchObject({ lost: { userId: 'a', reason: 'timeout' }, holder: 'b', changed: true });

    limits.FLOOR_MAX_TALK_MS = 60_000;
    const silence = randomUUID();
    await request(silence, 'a');
    await sut.run(silence, { op: 'media', userId: 'a' });
    await sleep(300);
    expect((await sut.run(silence, { op: 'tick' })).lost).toBeUndefined();
    await sleep(900);
    expect(await sut.run(silence, { op: 'tick' })).toMatchObject({ lost: { userId: 'a', reason: 'silence' }, holder: null });

    Object.assign(limits, { FLOOR_MAX_TALK_MS: 60_000, FLOOR_LEASE_MS: 2000 });
    const lease = randomUUID();
    await request(lease, 'a', { node: 'node-a' });
    await request(lease, 'b', { node: 'node-b' });
    await sleep(1200);
    await sut.run(lease, { op: 'renew', node: 'node-b' });
    await sut.run(lease, { op: 'renew', node: 'node-a' });
    await sleep(1200);
    // Renewed by its own node: still held (another node's renewal does not count).
    expect((await sut.run(lease, { op: 'tick' })).holder).toBe('a');
    await sleep(2100);
    const passed = await sut.run(lease, { op: 'tick' });
    expect(passed).toMatchObject({ lost: { userId: 'a', reason: 'lease' }, holder: 'b' });
    // The due set names the channel while its deadline is pending, and drops it when idle.
    await sut.run(lease, { op: 'release', userId: 'b' });
    expect(await sut.due(100)).not.toContain(lease);
  });

  it('drops only the socket that asked, and clears everything', async () => {
    const channelId = randomUUID();
    await request(channelId, 'a', { socketId: 's1' });
    await request(channelId, 'b', { socketId: 's2' });
    await request(channelId, 'c', { socketId: 's3' });
    expect((await sut.run(channelId, { op: 'drop', userId: 'a', socketId: 'other' })).holder).toBe('a');
    expect((await sut.run(channelId, { op: 'drop', userId: 'c', socketId: 's3' })).queue).toEqual(['b']);
    expect(await sut.run(channelId, { op: 'drop', userId: 'a', socketId: 's1' })).toMatchObject({
      lost: { userId: 'a', reason: 'disconnected' },
      holder: 'b',
    });
    await request(channelId, 'd');
    expect(await sut.run(channelId, { op: 'clear' })).toMatchObject({ lost: { userId: 'b', reason: 'mode' }, holder: null, queue: [] });
  });
});
