import { AccessService } from '../../src/access/access.service';
import { MembershipBus } from '../../src/access/membership-bus.service';
import { MessagesApp, seed, startMessagesApp } from './messages-app';

/** Two socket-less processes (as workers are): a change made in one reaches the other's cache. */
describe('membership path without sockets (medium: two Nest apps, real Postgres and Redis)', () => {
  let a: MessagesApp;
  let b: MessagesApp;

  beforeAll(async () => {
    [a, b] = [await startMessagesApp(), await startMessagesApp()];
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('drops a removed member from the cache of the process that made the change and of the other', async () => {
    const { workspaceId, userIds, channelIds } = await seed(a.db, 2, 1);
    const [channelId, userId] = [channelIds[0], userIds[1]];
    for (const node of [a, b]) expect(await node.app.get(AccessService).isChannelMember(channelId, userId)).toBe(true);
    await a.db.query('DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2', [channelId, userId]);
    // Still cached on both: only the change's path invalidates.
    expect(await b.app.get(AccessService).isChannelMember(channelId, userId)).toBe(true);

    await a.app.get(MembershipBus).changed({ workspaceId, channelId, userId, removed: true });

    expect(await a.app.get(AccessService).isChannelMember(channelId, userId)).toBe(false);
    // The other process hears of it on the Redis channel (no acknowledgement without sockets).
    const deadline = Date.now() + 10_000;
    while (await b.app.get(AccessService).isChannelMember(channelId, userId)) {
      if (Date.now() > deadline) throw new Error('the other process kept the removed member');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await expect(b.app.get(AccessService).requireChannelMember(channelId, userId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
