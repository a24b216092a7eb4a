import { ChannelLog } from '../../src/messages/channel-log';
import { SendPipeline } from '../../src/messages/send/send-pipeline';
import type { SendResult } from '../../src/messages/send/send.types';
import { waitFor } from '../support/fixtures';
import { channelState, MessagesApp, range, seed, startMessagesApp, warmAccess } from './messages-app';

const text = (channelId: string, clientMsgId: string, body = clientMsgId) => ({ channelId, clientMsgId, body });

describe('send pipeline (medium: Nest module, real Postgres and Redis)', () => {
  let node: MessagesApp;
  let other: MessagesApp;

  beforeAll(async () => {
    node = await startMessagesApp();
    other = await startMessagesApp();
  });

  afterAll(async () => {
    await node?.close();
    await other?.close();
  });

  it('group-commits the sends queued behind a write into one transaction across channels, in arrival order', async () => {
    const seeded = await seed(node.db, 2, 3);
    const { userIds, channelIds } = seeded;
    await warmAccess(node, seeded);
    const pipeline = node.app.get(SendPipeline);
    const writesBefore = node.writes.length;
    const release = node.holdNextWrite();
    const first = pipeline.send(userIds[0], text(channelIds[0], 'first'));
    // The held write has taken `first`; these all queue behind it.
    const rest = range(30, 0).map((i) => pipeline.send(userIds[i % 2], text(channelIds[i % 3], `m-${i}`)));
    await waitFor(() => pipeline.queued === 30, 10_000, 'the sends to queue');
    release();
    const results = await Promise.all([first, ...rest]);

    expect(node.writes.slice(writesBefore)).toEqual([1, 30]);
    expect(results.every((r) => r.created)).toBe(true);
    for (const [c, channelId] of channelIds.entries()) {
      const state = await channelState(node.db, channelId);
      const sent = [...(c === 0 ? ['first'] : []), ...range(30, 0).filter((i) => i % 3 === c).map((i) => `m-${i}`)];
      // Gap-free from 1, one event per message, head at the last seq, seqs in arrival order.
      expect(state.seqs).toEqual(range(sent.length));
      expect(state.headSeq).toBe(sent.length);
      expect(state.messages.map((m) => m.clientMsgId)).toEqual(sent);
      expect(state.events.map((e) => e.data.id)).toEqual(state.messages.map((m) => m.id));
    }
    // Fan-out and the side-effect handlers got each event once, the acked message as its data.
    const committed = node.committed.events.filter((e) => channelIds.includes(e.channelId));
    expect(committed).toHaveLength(31);
    const byId = new Map(results.map((r) => [r.message.id, r.message]));
    for (const event of committed) expect(event.data).toEqual(byId.get((event.data as { id: string }).id));
    // The in-transaction hook ran inside the batch's transaction, after the heads moved.
    await node.txHook.settle();
    const hookCall = node.txHook.calls.find((call) => call.events.length === 30);
    expect(hookCall).toBeDefined();
    for (const channelId of channelIds) {
      const last = Math.max(...hookCall!.events.filter((e) => e.channelId === channelId).map((e) => e.seq));
      expect(hookCall!.headSeqs.get(channelId)).toBe(last);
    }
  });

  it('answers concurrent sends of one clientMsgId with one message, on one node', async () => {
    const { userIds, channelIds } = await seed(node.db, 1, 1);
    const pipeline = node.app.get(SendPipeline);
    const results = await Promise.all(range(12).map(() => pipeline.send(userIds[0], text(channelIds[0], 'same'))));
    expect(new Set(results.map((r) => r.message.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const state = await channelState(node.db, channelIds[0]);
    expect(state.messages).toHaveLength(1);
    expect(state.seqs).toEqual([1]);
  });

  it('answers concurrent sends of one clientMsgId from two nodes with one message', async () => {
    const { userIds, channelIds } = await seed(node.db, 1, 1);
    const keys = range(20).map((i) => `race-${i}`);
    const releases = [node.holdNextWrite(), other.holdNextWrite()];
    const fromNode = keys.map((key) => node.app.get(SendPipeline).send(userIds[0], text(channelIds[0], key)));
    const fromOther = keys.map((key) => other.app.get(SendPipeline).send(userIds[0], text(channelIds[0], key)));
    // Each node's first write is held with one send; the other 19 queue behind it, on both nodes.
    await waitFor(() => node.app.get(SendPipeline).queued === 19 && other.app.get(SendPipeline).queued === 19, 10_000, 'the sends to queue');
    releases.forEach((release) => release());
    const [a, b] = await Promise.all([Promise.all(fromNode), Promise.all(fromOther)]);

    keys.forEach((_, i) => {
      expect(a[i].message).toEqual(b[i].message);
      expect(Number(a[i].created) + Number(b[i].created)).toBe(1);
    });
    const state = await channelState(node.db, channelIds[0]);
    expect(state.messages.map((m) => m.clientMsgId).sort()).toEqual([...keys].sort());
    expect(state.seqs).toEqual(range(20));
    expect(state.headSeq).toBe(20);
  });

  it('retries a failed batch send by send: the bad send fails alone, the others commit without a gap', async () => {
    const seeded = await seed(node.db, 1, 2);
    const { userIds, channelIds } = seeded;
    await warmAccess(node, seeded);
    const pipeline = node.app.get(SendPipeline);
    const writesBefore = node.writes.length;
    const release = node.holdNextWrite();
    const first = pipeline.send(userIds[0], text(channelIds[0], 'before'));
    const good = range(5, 0).map((i) => pipeline.send(userIds[0], text(channelIds[i % 2], `good-${i}`)));
    // Past the column's 64 characters (the DTO would refuse it; in here nothing does): its insert
    // fails in Postgres, and with it the whole batch statement.
    const bad = pipeline.send(userIds[0], text(channelIds[1], 'x'.repeat(65)));
    const badOutcome = bad.then(
      () => 'committed',
      () => 'failed',
    );
    await waitFor(() => pipeline.queued === 6, 10_000, 'the sends to queue');
    release();
    const results: SendResult[] = await Promise.all([first, ...good]);

    expect(await badOutcome).toBe('failed');
    expect(results.every((r) => r.created)).toBe(true);
    // The held write, the failed batch of six, then each of the six alone.
    expect(node.writes.slice(writesBefore)).toEqual([1, 6, 1, 1, 1, 1, 1, 1]);
    const [a, b] = [await channelState(node.db, channelIds[0]), await channelState(node.db, channelIds[1])];
    expect(a.messages.map((m) => m.clientMsgId)).toEqual(['before', 'good-0', 'good-2', 'good-4']);
    expect(b.messages.map((m) => m.clientMsgId)).toEqual(['good-1', 'good-3']);
    expect([a.seqs, b.seqs]).toEqual([range(4), range(2)]);
  });

  it('survives the connection of a write ending under it (Postgres restarted): the send is retried and committed once', async () => {
    const seeded = await seed(node.db, 1, 1);
    await warmAccess(node, seeded);
    node.txHook.terminateOnce = true;
    const result = await node.app.get(SendPipeline).send(seeded.userIds[0], text(seeded.channelIds[0], 'after-loss'));
    expect(node.txHook.terminateOnce).toBe(false);
    expect(result.created).toBe(true);
    const state = await channelState(node.db, seeded.channelIds[0]);
    expect(state.messages.map((m) => m.clientMsgId)).toEqual(['after-loss']);
    expect(state.seqs).toEqual([1]);
  });

  it('rolls a batch back when the in-transaction hook fails, then commits each send alone', async () => {
    const seeded = await seed(node.db, 1, 2);
    const { userIds, channelIds } = seeded;
    await warmAccess(node, seeded);
    const pipeline = node.app.get(SendPipeline);
    const writesBefore = node.writes.length;
    const committedBefore = node.committed.events.length;
    const release = node.holdNextWrite();
    const first = pipeline.send(userIds[0], text(channelIds[0], 'held'));
    const rest = range(4, 0).map((i) => pipeline.send(userIds[0], text(channelIds[i % 2], `after-${i}`)));
    await waitFor(() => pipeline.queued === 4, 10_000, 'the sends to queue');
    node.txHook.failOnce = (events) => events.length === 4 && events.every((e) => channelIds.includes(e.channelId));
    release();
    const results = await Promise.all([first, ...rest]);

    expect(results.every((r) => r.created)).toBe(true);
    expect(node.writes.slice(writesBefore)).toEqual([1, 4, 1, 1, 1, 1]);
    expect((await channelState(node.db, channelIds[0])).messages.map((m) => m.clientMsgId)).toEqual(['held', 'after-0', 'after-2']);
    expect((await channelState(node.db, channelIds[0])).seqs).toEqual(range(3));
    expect((await channelState(node.db, channelIds[1])).seqs).toEqual(range(2));
    // Nothing of the rolled-back transaction was fanned out: each message once.
    const fannedOut = node.committed.events.slice(committedBefore).filter((e) => channelIds.includes(e.channelId));
    expect(fannedOut.map((e) => (e.data as { clientMsgId: string }).clientMsgId).sort()).toEqual(
      ['held', ...range(4, 0).map((i) => `after-${i}`)].sort(),
    );
  });

  it('stores a body with a lone surrogate as a text column would (U+FFFD), in the message and its event alike', async () => {
    const { userIds, channelIds } = await seed(node.db, 1, 1);
    const result = await node.app.get(SendPipeline).send(userIds[0], text(channelIds[0], 'cut', 'half an emoji \ud83d'));
    expect(result.message.body).toBe('half an emoji \ufffd');
    const state = await channelState(node.db, channelIds[0]);
    expect((state.events[0].data as { body?: string }).body).toBe('half an emoji \ufffd');
  });

  it('refuses a transaction that allocates a seq without its event, writing nothing', async () => {
    const { channelIds } = await seed(node.db, 1, 1);
    const log = node.app.get(ChannelLog);
    await expect(
      log.transaction(async (manager) => {
        const head = await log.lockOne(manager, channelIds[0]);
        head.next();
        head.append('member.joined', { userId: 'x' });
      }),
    ).rejects.toThrow(/exactly/);
    const state = await channelState(node.db, channelIds[0]);
    expect(state).toMatchObject({ seqs: [], headSeq: 0 });
    await expect(node.db.transaction((manager) => log.append(manager, channelIds[0], []))).rejects.toThrow(/only inside ChannelLog.transaction/);
  });
});
