import { TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { InvitesRepository, NewInviteRow } from '../../src/workspaces/invites.repository';
import { WorkspaceMembersRepository } from '../../src/workspaces/workspace-members.repository';
import { WorkspacesDataModule } from '../../src/workspaces/workspaces-data.module';
import { WorkspacesRepository } from '../../src/workspaces/workspaces.repository';
import { databaseModule, Seed } from './database';

/** Workspace, member and invite repositories against the real Postgres, tenancy first. */
describe('workspace repositories (medium)', () => {
  let module: TestingModule;
  let dataSource: DataSource;
  let seed: Seed;
  let workspaces: WorkspacesRepository;
  let members: WorkspaceMembersRepository;
  let invites: InvitesRepository;
  let owner: string;
  let workspace: string;
  let other: string;

  beforeAll(async () => {
    ({ module, dataSource } = await databaseModule([WorkspacesDataModule]));
    seed = new Seed(dataSource);
    workspaces = module.get(WorkspacesRepository);
    members = module.get(WorkspaceMembersRepository);
    invites = module.get(InvitesRepository);
    owner = await seed.user('owner');
    workspace = await seed.workspace(owner);
    other = await seed.workspace(await seed.user('other-owner'));
  });

  afterAll(() => module.close());

  describe(WorkspacesRepository.name, () => {
    it('inserts a workspace as its entity and answers null for a taken slug', async () => {
      const slug = `r-${randomUUID().slice(0, 20)}`;
      const sut = await workspaces.insertIfAbsent(dataSource.manager, { name: 'Repo', slug, createdBy: owner });
      expect(sut).toMatchObject({ name: 'Repo', slug, createdBy: owner, searchConfig: 'simple' });
      expect(sut?.createdAt).toBeInstanceOf(Date);
      expect(await workspaces.insertIfAbsent(dataSource.manager, { name: 'Again', slug, createdBy: owner })).toBeNull();
      expect((await workspaces.findById(sut!.id))?.slug).toBe(slug);
    });

    it("lists only the user's workspaces, oldest first, with the role in each", async () => {
      const user = await seed.user('lister');
      const mine = await seed.workspace(user);
      await seed.member(workspace, user, 'guest');
      const sut = await workspaces.listForUser(user);
      expect(sut.map(({ workspace: w, role }) => [w.id, role])).toEqual([
        [workspace, 'guest'],
        [mine, 'owner'],
      ]);
    });

    it('locks a known workspace and answers false for an unknown one', async () => {
      await dataSource.transaction(async (manager) => {
        expect(await workspaces.lockForMemberChange(manager, workspace)).toBe(true);
        expect(await workspaces.lockForMemberChange(manager, randomUUID())).toBe(false);
      });
    });
  });

  describe(WorkspaceMembersRepository.name, () => {
    it('reads a role only in its workspace, and never adds a member twice', async () => {
      const user = await seed.user('joiner');
      expect(await members.insertIfAbsent(dataSource.manager, workspace, user, 'member')).toBe(true);
      expect(await members.insertIfAbsent(dataSource.manager, workspace, user, 'guest')).toBe(false);
      expect(await members.findRole(workspace, user)).toBe('member');
      expect(await members.findRole(other, user)).toBeNull();
    });

    it('share-locks and answers only members of the given workspace', async () => {
      const inside = await seed.user('inside');
      const outside = await seed.user('outside');
      await seed.member(workspace, inside);
      await seed.member(other, outside);
      await dataSource.transaction(async (manager) => {
        expect(await members.lockPresent(manager, workspace, [outside, inside])).toEqual([inside]);
        expect(await members.lockPresent(manager, workspace, [])).toEqual([]);
      });
    });

    it('lists members by role, then name, and none of another workspace', async () => {
      const owned = await seed.workspace(await seed.user('Zed'));
      for (const [name, role] of [
        ['bea', 'member'],
        ['Al', 'guest'],
        ['ann', 'member'],
        ['cy', 'admin'],
      ]) {
        await seed.member(owned, await seed.user(name), role);
      }
      await seed.member(other, await seed.user('stranger'));
      const sut = await members.list(owned);
      expect(sut.map((m) => [m.displayName, m.role])).toEqual([
        ['Zed', 'owner'],
        ['cy', 'admin'],
        ['ann', 'member'],
        ['bea', 'member'],
        ['Al', 'guest'],
      ]);
      expect(Object.keys(sut[0]).sort()).toEqual(['displayName', 'role', 'userId']);
    });

    it('reads members with the owner count, scoped to the workspace', async () => {
      const second = await seed.user('second-owner');
      const scoped = await seed.workspace(owner);
      await seed.member(scoped, second, 'owner');
      await dataSource.transaction(async (manager) => {
        const sut = await members.findWithOwnerCount(manager, scoped, [owner, second]);
        expect(sut.ownerCount).toBe(2);
        expect(sut.members.map((m) => m.userId).sort()).toEqual([owner, second].sort());
        expect(await members.findWithOwnerCount(manager, other, [owner, second])).toEqual({
          members: [],
          ownerCount: 0,
        });
      });
    });

    it('changes and deletes a membership of one workspace only', async () => {
      const user = await seed.user('both');
      await seed.member(workspace, user);
      await seed.member(other, user);
      await members.updateRole(dataSource.manager, workspace, user, 'admin');
      expect(await members.findRole(workspace, user)).toBe('admin');
      expect(await members.findRole(other, user)).toBe('member');
      await members.delete(dataSource.manager, workspace, user);
      expect(await members.findRole(workspace, user)).toBeNull();
      expect(await members.findRole(other, user)).toBe('member');
    });
  });

  describe(InvitesRepository.name, () => {
    const invite = (overrides: Partial<NewInviteRow> = {}): NewInviteRow => ({
      workspaceId: workspace,
      code: `code-${randomUUID()}`,
      role: 'member',
      maxUses: null,
      expiresInHours: 24,
      createdBy: owner,
      ...overrides,
    });

    it('stores an invite with its expiry from the database clock', async () => {
      const sut = await invites.insert(invite({ expiresInHours: 2, maxUses: 3, role: 'guest' }));
      expect(sut).toMatchObject({ workspaceId: workspace, role: 'guest', maxUses: 3, uses: 0, revokedAt: null });
      expect(sut.expiresAt.getTime() - sut.createdAt.getTime()).toBe(2 * 3600_000);
    });

    it("revokes only through the invite's workspace, and once", async () => {
      const { code } = await invites.insert(invite());
      expect(await invites.revoke(other, code)).toBe(false);
      expect(await invites.revoke(workspace, code)).toBe(true);
      expect(await invites.revoke(workspace, code)).toBe(false);
      expect(await invites.findAcceptable(dataSource.manager, code, await seed.user('late'))).toBeNull();
    });

    it('refuses expired codes', async () => {
      const { code, id } = await invites.insert(invite());
      await dataSource.query(`UPDATE invites SET expires_at = now() - interval '1 second' WHERE id = $1`, [id]);
      expect(await invites.findAcceptable(dataSource.manager, code, await seed.user('late'))).toBeNull();
      expect(await invites.consumeUse(dataSource.manager, id)).toBe(false);
    });

    it('keeps out a removed user with invites made before the removal, not others', async () => {
      const removed = await seed.user('removed');
      const bystander = await seed.user('bystander');
      const before = await invites.insert(invite());
      await members.recordRemoval(dataSource.manager, workspace, removed, owner);
      expect(await invites.findAcceptable(dataSource.manager, before.code, removed)).toBeNull();
      expect((await invites.findAcceptable(dataSource.manager, before.code, bystander))?.id).toBe(before.id);
    });

    it('lets a removed user in with a newer invite, until they are removed again', async () => {
      const removed = await seed.user('returning');
      await members.recordRemoval(dataSource.manager, workspace, removed, owner);
      // Clocks made explicit: the removal a minute ago, the invite 30 s ago.
      await dataSource.query(
        `UPDATE workspace_removals SET removed_at = now() - interval '1 minute' WHERE workspace_id = $1 AND user_id = $2`,
        [workspace, removed],
      );
      const newer = await invites.insert(invite());
      await dataSource.query(`UPDATE invites SET created_at = now() - interval '30 seconds' WHERE id = $1`, [newer.id]);
      expect((await invites.findAcceptable(dataSource.manager, newer.code, removed))?.id).toBe(newer.id);

      await members.recordRemoval(dataSource.manager, workspace, removed, owner);
      expect(await invites.findAcceptable(dataSource.manager, newer.code, removed)).toBeNull();
      const rows: unknown[] = await dataSource.query(
        'SELECT 1 FROM workspace_removals WHERE workspace_id = $1 AND user_id = $2',
        [workspace, removed],
      );
      expect(rows).toHaveLength(1);
    });

    it('a removal from another workspace does not keep the user out', async () => {
      const user = await seed.user('elsewhere');
      const here = await invites.insert(invite());
      await members.recordRemoval(dataSource.manager, other, user, owner);
      expect((await invites.findAcceptable(dataSource.manager, here.code, user))?.id).toBe(here.id);
    });

    it('spends at most maxUses, also when accepts race', async () => {
      const { id } = await invites.insert(invite({ maxUses: 2 }));
      const outcomes = await Promise.all(
        Array.from({ length: 6 }, () => dataSource.transaction((manager) => invites.consumeUse(manager, id))),
      );
      expect(outcomes.filter(Boolean)).toHaveLength(2);
      const rows: { uses: number }[] = await dataSource.query('SELECT uses FROM invites WHERE id = $1', [id]);
      expect(rows[0].uses).toBe(2);
    });
  });
});
