import { Module } from '@nestjs/common';
import { TestingModule } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { SearchRepository } from '../../src/search/search.repository';
import { databaseModule, Seed } from './database';

@Module({ providers: [SearchRepository] })
class SearchTestModule {}

/** The search SQL against the real Postgres: scoping, filters and keyset pages. */
describe(`${SearchRepository.name} (medium)`, () => {
  let module: TestingModule;
  let dataSource: DataSource;
  let seed: Seed;
  let sut: SearchRepository;
  let owner: string;
  let peer: string;
  let workspace: string;
  let other: string;
  let foreignChannel: string;

  beforeAll(async () => {
    ({ module, dataSource } = await databaseModule([SearchTestModule]));
    seed = new Seed(dataSource);
    sut = module.get(SearchRepository);
    owner = await seed.user('owner');
    peer = await seed.user('Peer Name');
    workspace = await seed.workspace(owner);
    await seed.member(workspace, peer);
    other = await seed.workspace(await seed.user('Peer Name'));
    foreignChannel = await seed.channel(other, owner, { name: 'theirs', members: [owner] });
  });

  afterAll(() => module.close());

  it('lists only the member channels of the workspace', async () => {
    const user = await seed.user('joiner');
    await seed.member(workspace, user);
    await seed.member(other, user);
    const joined = await seed.channel(workspace, owner, { name: 'joined', members: [user] });
    await seed.channel(workspace, owner, { name: 'not-joined', members: [owner] });
    expect(await sut.memberChannels(workspace, user)).toEqual([{ id: joined, name: 'joined' }]);
    expect(await sut.memberChannels(other, user)).toEqual([]);
  });

  it('names members of the workspace only, by id or display name', async () => {
    expect(await sut.membersNamed(workspace, 'peer name')).toEqual([peer]);
    expect(await sut.membersNamed(workspace, peer.toUpperCase())).toEqual([peer]);
    // The other workspace has its own "Peer Name"; it is not found from here.
    const named = await sut.membersNamed(other, 'Peer Name');
    expect(named).toHaveLength(1);
    expect(named).not.toContain(peer);
  });

  it('finds nothing through a channel id of another workspace', async () => {
    await seed.message(other, foreignChannel, owner, { body: 'zebra crossing' });
    const rows = await sut.search(workspace, 'simple', 'zebra', { channelIds: [foreignChannel] }, null, 10);
    expect(rows).toEqual([]);
    const theirs = await sut.search(other, 'simple', 'zebra', { channelIds: [foreignChannel] }, null, 10);
    expect(theirs.map((row) => row.body)).toEqual(['zebra crossing']);
  });

  it('pages newest first with keyset cursors, skips deleted messages and filters by author', async () => {
    const fresh = await seed.channel(workspace, owner, { members: [owner, peer] });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await seed.message(workspace, fresh, i % 2 ? peer : owner, { body: `walrus report ${i}` }));
      // Distinct timestamps: the order under equal ranks is created_at, then id.
      await dataSource.query(`UPDATE messages SET created_at = now() + make_interval(secs => $2) WHERE id = $1`, [
        ids[i],
        i,
      ]);
    }
    await seed.message(workspace, fresh, owner, { body: 'walrus deleted', deleted: true });
    const filters = { channelIds: [fresh] };
    const first = await sut.search(workspace, 'simple', 'walrus', filters, null, 2);
    expect(first.map((row) => row.id)).toEqual([ids[4], ids[3]]);
    const last = first[first.length - 1];
    const key = { rank: last.rank_key, createdAt: last.created_key, id: last.id };
    const second = await sut.search(workspace, 'simple', 'walrus', filters, key, 10);
    expect(second.map((row) => row.id)).toEqual([ids[2], ids[1], ids[0]]);
    expect(second[0].headline).toContain('\u0002walrus\u0003');

    const byPeer = await sut.search(workspace, 'simple', '', { ...filters, authorIds: [peer] }, null, 10);
    expect(byPeer.map((row) => row.id)).toEqual([ids[3], ids[1]]);
  });

  it('tells searchable text from stop words only', async () => {
    expect(await sut.hasTerms('english', 'the and of')).toBe(false);
    expect(await sut.hasTerms('english', 'walrus')).toBe(true);
  });
});
