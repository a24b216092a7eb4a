import { ChannelHead, commitChannelHead } from './channel-log';
import type { EntityManager } from 'typeorm';

function fakeManager() {
  const calls: { sql: string; params: unknown[] }[] = [];
  const manager = { query: async (sql: string, params: unknown[]) => (calls.push({ sql, params }), []) } as unknown as EntityManager;
  return { manager, calls };
}

describe(ChannelHead.name, () => {
  const at = new Date('2026-01-01T00:00:00Z');

  it('hands out the seqs after the locked head, one each, in order', () => {
    const sut = new ChannelHead('c', 'w', 41, at);
    expect([sut.next(), sut.next(), sut.next()]).toEqual([42, 43, 44]);
    expect(sut.headSeq).toBe(44);
  });

  it('commits the recorded events sorted by seq and moves the head to the last one', async () => {
    const sut = new ChannelHead('c', 'w', 10, at);
    const a = sut.next();
    const b = sut.next();
    sut.record(b, 'message.created', { n: 2 });
    sut.record(a, 'message.created', { n: 1 });
    const { manager, calls } = fakeManager();
    const events = await commitChannelHead(manager, sut);
    expect(events.map((e) => e.seq)).toEqual([11, 12]);
    // One statement appends the events and moves the head.
    expect(calls).toHaveLength(1);
    expect(calls[0].params[3]).toEqual([11, 12]);
    expect(calls[0].params.slice(6)).toEqual([['c'], [12]]);
    expect(events[0]).toEqual({ workspaceId: 'w', channelId: 'c', seq: 11, type: 'message.created', at: at.toISOString(), data: { n: 1 } });
  });

  it('refuses to commit a gap: an allocated seq without an event', async () => {
    const sut = new ChannelHead('c', 'w', 0, at);
    sut.next();
    sut.record(sut.next(), 'message.created', {});
    await expect(commitChannelHead(fakeManager().manager, sut)).rejects.toThrow(/exactly/);
  });

  it('writes nothing when nothing was recorded', async () => {
    const { manager, calls } = fakeManager();
    expect(await commitChannelHead(manager, new ChannelHead('c', 'w', 5, at))).toEqual([]);
    expect(calls).toEqual([]);
  });
});
