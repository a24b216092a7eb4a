import { TestingModule } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { ChannelMembersRepository } from '../../src/channels/channel-members.repository';
import { ChannelsDataModule } from '../../src/channels/channels-data.module';
import { ChannelsRepository } from '../../src/channels/channels.repository';
import { TopicsRepository } from '../../src/channels/topics.repository';
import { databaseModule, Seed } from './database';

/** Channel, channel member and topic repositories against the real Postgres, tenancy first. */
describe('channel repositories (medium)', () => {
  let module: TestingModule;
  let dataSource: DataSource;
  let seed: Seed;
  let channels: ChannelsRepository;
  let members: ChannelMembersRepository;
  let topics: TopicsRepository;
  let owner: string;
  let peer: string;
  let workspace: string;
  let other: string;

  beforeAll(async () => {
    ({ module, dataSource } = await databaseModule([ChannelsDataModule]));
    seed = new Seed(dataSource);
    channels = module.get(ChannelsRepository);
    members = module.get(ChannelMembersRepository);
    topics = module.get(TopicsRepository);
    owner = await seed.user('owner');
    peer = await seed.user('peer');
    workspace = await seed.workspace(owner);
    await seed.member(workspace, peer);
    other = await seed.workspace(await seed.user('other-owner'));
  });

  afterAll(() => module.close());

  const memberIds = async (channelId: string): Promise<string[]> => {
    const rows: { user_id: string }[] = await dataSource.query(
      'SELECT user_id FROM channel_members WHERE channel_id = $1 ORDER BY user_id',
      [channelId],
    );
    return rows.map((row) => row.user_id);
  };

  describe(ChannelsRepository.name, () => {
    it('inserts a channel as its entity, and answers null for a name taken in the workspace only', async () => {
      const sut = await channels.insertIfAbsent(dataSource.manager, {
        workspaceId: workspace,
        name: 'design',
        kind: 'public',
        dmKey: null,
        createdBy: owner,
      });
      expect(sut).toMatchObject({ workspaceId: workspace, name: 'design', kind: 'public', headSeq: 0, dmKey: null });
      expect(sut?.createdAt).toBeInstanceOf(Date);
      const again = { workspaceId: workspace, name: 'design', kind: 'private' as const, dmKey: null, createdBy: owner };
      expect(await channels.insertIfAbsent(dataSource.manager, again)).toBeNull();
      const elsewhere = await channels.insertIfAbsent(dataSource.manager, { ...again, workspaceId: other });
      expect(elsewhere?.workspaceId).toBe(other);
    });

    it('finds a channel only through its own workspace', async () => {
      const id = await seed.channel(workspace, owner, { name: 'scoped' });
      expect((await channels.find(workspace, id))?.id).toBe(id);
      expect(await channels.find(other, id)).toBeNull();
      expect((await channels.findByName(dataSource.manager, workspace, 'scoped'))?.id).toBe(id);
      expect(await channels.findByName(dataSource.manager, other, 'scoped')).toBeNull();
    });

    it('finds a DM by key only in its workspace', async () => {
      const dm = await channels.insertIfAbsent(dataSource.manager, {
        workspaceId: workspace,
        name: null,
        kind: 'direct',
        dmKey: [owner, peer].sort().join(','),
        createdBy: owner,
      });
      const key = [owner, peer].sort().join(',');
      expect((await channels.findDirect(dataSource.manager, workspace, key))?.id).toBe(dm?.id);
      expect(await channels.findDirect(dataSource.manager, other, key)).toBeNull();
    });

    it('locks a channel only through its own workspace', async () => {
      const id = await seed.channel(workspace, owner);
      await dataSource.transaction(async (manager) => {
        expect(await channels.lock(manager, workspace, id)).toBe(true);
        expect(await channels.lock(manager, other, id)).toBe(false);
      });
    });

    it("locks the user's channels of one workspace, in id order", async () => {
      const user = await seed.user('many');
      await seed.member(workspace, user);
      await seed.member(other, user);
      const mine = [
        await seed.channel(workspace, owner, { members: [user] }),
        await seed.channel(workspace, owner, { members: [user], kind: 'private' }),
      ].sort();
      await seed.channel(workspace, owner);
      await seed.channel(other, owner, { members: [user] });
      await dataSource.transaction(async (manager) => {
        expect(await channels.lockMemberChannels(manager, workspace, user)).toEqual(mine);
      });
    });

    it('lists member channels, public ones on request, with unread counts, never another workspace', async () => {
      const reader = await seed.user('reader');
      await seed.member(workspace, reader);
      await seed.member(other, reader);
      const joined = await seed.channel(workspace, owner, { name: 'a-joined', members: [owner, reader] });
      const open = await seed.channel(workspace, owner, { name: 'b-open', members: [owner] });
      const hidden = await seed.channel(workspace, owner, { name: 'c-hidden', kind: 'private', members: [owner] });
      const foreign = await seed.channel(other, owner, { name: 'a-joined', members: [reader] });
      await seed.message(workspace, joined, owner);
      await seed.message(workspace, joined, owner);
      await seed.message(workspace, joined, owner, { deleted: true });
      await seed.message(workspace, joined, reader);
      await dataSource.query('UPDATE channel_members SET last_read_seq = 1 WHERE channel_id = $1 AND user_id = $2', [
        joined,
        reader,
      ]);

      const sut = await channels.listVisible(workspace, reader, true);
      const byId = new Map(sut.map((row) => [row.channel.id, row]));
      expect(byId.get(joined)).toMatchObject({ isMember: true, lastReadSeq: 1, unreadCount: 1 });
      expect(byId.get(joined)?.channel.headSeq).toBe(4);
      expect(byId.get(open)).toMatchObject({ isMember: false, lastReadSeq: 0, unreadCount: 0 });
      expect(byId.has(hidden)).toBe(false);
      expect(byId.has(foreign)).toBe(false);
      expect(sut.every((row) => row.channel.workspaceId === workspace)).toBe(true);

      const guestView = await channels.listVisible(workspace, reader, false);
      expect(guestView.map((row) => row.channel.id)).toEqual([joined]);
    });
  });

  describe(ChannelMembersRepository.name, () => {
    it('adds members once and never into a channel of another workspace', async () => {
      const id = await seed.channel(workspace, owner, { members: [owner] });
      await dataSource.transaction(async (manager) => {
        expect(await members.insertMany(manager, other, id, [peer])).toEqual([]);
        expect((await members.insertMany(manager, workspace, id, [owner, peer])).sort()).toEqual([peer]);
        expect(await members.insertMany(manager, workspace, id, [peer])).toEqual([]);
      });
      expect(await memberIds(id)).toEqual([owner, peer].sort());
    });

    it('removes a member only through the channel workspace', async () => {
      const id = await seed.channel(workspace, owner, { members: [owner, peer] });
      await dataSource.transaction(async (manager) => {
        expect(await members.delete(manager, other, id, peer)).toBe(false);
        expect(await members.delete(manager, workspace, id, peer)).toBe(true);
        expect(await members.delete(manager, workspace, id, peer)).toBe(false);
      });
      expect(await memberIds(id)).toEqual([owner]);
    });

    it("takes a user out of one workspace's channels, leaving the other workspace's", async () => {
      const user = await seed.user('leaver');
      await seed.member(workspace, user);
      await seed.member(other, user);
      const here = await seed.channel(workspace, owner, { members: [user] });
      const there = await seed.channel(other, owner, { members: [user] });
      await members.deleteFromWorkspace(dataSource.manager, workspace, user);
      expect(await memberIds(here)).toEqual([]);
      expect(await memberIds(there)).toEqual([user]);
    });
  });

  describe(TopicsRepository.name, () => {
    it('starts a topic only in a channel of the given workspace', async () => {
      const id = await seed.channel(workspace, owner);
      const topic = { workspaceId: other, channelId: id, title: 'nope', createdBy: owner };
      expect(await topics.insert(dataSource.manager, topic)).toBeNull();
      const sut = await topics.insert(dataSource.manager, { ...topic, workspaceId: workspace, title: 'Launch' });
      expect(sut).toMatchObject({ workspaceId: workspace, channelId: id, title: 'Launch', createdBy: owner });
      expect(sut?.lastActivityAt).toBeInstanceOf(Date);
    });

    it('lists by latest activity, and nothing through another workspace', async () => {
      const id = await seed.channel(workspace, owner);
      const first = await topics.insert(dataSource.manager, {
        workspaceId: workspace,
        channelId: id,
        title: 'first',
        createdBy: owner,
      });
      const second = await topics.insert(dataSource.manager, {
        workspaceId: workspace,
        channelId: id,
        title: 'second',
        createdBy: owner,
      });
      await dataSource.query(`UPDATE topics SET last_activity_at = now() + interval '1 minute' WHERE id = $1`, [
        first?.id,
      ]);
      expect((await topics.listForChannel(workspace, id)).map((t) => t.id)).toEqual([first?.id, second?.id]);
      expect(await topics.listForChannel(other, id)).toEqual([]);
    });
  });
});
