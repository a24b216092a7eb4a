// First: the environment must be in place before the config module reads it.
import './medium-env';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ChannelMembersService } from '../../src/channels/channel-members.service';
import { ChannelsService } from '../../src/channels/channels.service';
import { INFRASTRUCTURE_MODULES } from '../../src/infrastructure.modules';
import { PresenceModule } from '../../src/presence/presence.module';
import { InvitesService } from '../../src/workspaces/invites.service';
import { MembersService } from '../../src/workspaces/members.service';
import { WorkspacesModule } from '../../src/workspaces/workspaces.module';
import { WorkspacesService } from '../../src/workspaces/workspaces.service';
import { Seed } from './database';

/**
 * Workspace and channel membership services in one process against the real Postgres and Redis:
 * the lock order and the channel-log appends that the black-box suites only see from outside.
 */
describe('workspace membership services (medium)', () => {
  let app: INestApplicationContext;
  let db: DataSource;
  let seed: Seed;
  let workspaces: WorkspacesService;
  let members: MembersService;
  let invites: InvitesService;
  let channels: ChannelsService;
  let channelMembers: ChannelMembersService;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [...INFRASTRUCTURE_MODULES, PresenceModule, WorkspacesModule],
    }).compile();
    app = await moduleRef.init();
    db = app.get(DataSource);
    seed = new Seed(db);
    workspaces = app.get(WorkspacesService);
    members = app.get(MembersService);
    invites = app.get(InvitesService);
    channels = app.get(ChannelsService);
    channelMembers = app.get(ChannelMembersService);
  });

  afterAll(() => app.close());

  const events = (channelId: string): Promise<{ seq: string; type: string; data: { userId?: string } }[]> =>
    db.query('SELECT seq, type, data FROM channel_events WHERE channel_id = $1 ORDER BY seq', [channelId]);

  const joinWith = async (workspaceId: string, ownerId: string, userId: string) => {
    const { code } = await invites.create(ownerId, workspaceId, {});
    await invites.accept(userId, code);
  };

  it('creates a workspace with its owner in `general`, whose log starts with the join', async () => {
    const owner = await seed.user('founder');
    const sut = await workspaces.create(owner, 'Founders', `f-${randomUUID().slice(0, 20)}`);
    expect(sut.role).toBe('owner');
    const [general] = await channels.list(owner, sut.id);
    expect(general).toMatchObject({ name: 'general', isMember: true, headSeq: 1 });
    expect(await events(general.id)).toEqual([{ seq: '1', type: 'member.joined', data: { userId: owner } }]);
  });

  it('removing a member leaves every channel of theirs with a member.left, and their old invites stop working', async () => {
    const owner = await seed.user('owner');
    const user = await seed.user('removed');
    const workspace = await workspaces.create(owner, 'Team', `t-${randomUUID().slice(0, 20)}`);
    const { code } = await invites.create(owner, workspace.id, { maxUses: 5 });
    await invites.accept(user, code);
    const side = await channels.create(owner, workspace.id, { name: 'side', kind: 'private', memberIds: [user] });
    const general = (await channels.list(owner, workspace.id)).find((c) => c.name === 'general')!;

    await members.remove(owner, workspace.id, user);

    for (const channel of [general, side]) {
      const log = await events(channel.id);
      expect(log[log.length - 1]).toMatchObject({ type: 'member.left', data: { userId: user } });
    }
    const left: unknown[] = await db.query('SELECT 1 FROM channel_members WHERE user_id = $1 AND workspace_id = $2', [
      user,
      workspace.id,
    ]);
    expect(left).toEqual([]);
    await expect(invites.accept(user, code)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // A new invite lets them back, into `general` again.
    await joinWith(workspace.id, owner, user);
    expect((await channels.list(user, workspace.id)).map((c) => c.name)).toEqual(['general']);
  });

  it('leaves no channel member behind when a removal races channel joins', async () => {
    const owner = await seed.user('racer-owner');
    const workspace = await workspaces.create(owner, 'Race', `r-${randomUUID().slice(0, 20)}`);
    const targets = await Promise.all(
      Array.from({ length: 4 }, async (_, i) => {
        const id = await seed.user(`racer-${i}`);
        await joinWith(workspace.id, owner, id);
        return id;
      }),
    );
    const open = await channels.create(owner, workspace.id, { name: 'open', kind: 'public' });
    await Promise.allSettled(
      targets.flatMap((userId) => [
        channelMembers.join(userId, workspace.id, open.id),
        channelMembers.addMember(owner, workspace.id, open.id, userId),
        members.remove(owner, workspace.id, userId),
      ]),
    );
    const stranded: unknown[] = await db.query(
      `SELECT cm.user_id FROM channel_members cm
        WHERE cm.workspace_id = $1
          AND NOT EXISTS (SELECT 1 FROM workspace_members wm WHERE wm.workspace_id = cm.workspace_id AND wm.user_id = cm.user_id)`,
      [workspace.id],
    );
    expect(stranded).toEqual([]);
    // The log stays gap-free whatever won each race.
    const seqs = (await events(open.id)).map((e) => Number(e.seq));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it('answers NOT_FOUND through another workspace, for channels and for members', async () => {
    const owner = await seed.user('tenant-a');
    const stranger = await seed.user('tenant-b');
    const a = await workspaces.create(owner, 'A', `a-${randomUUID().slice(0, 20)}`);
    const b = await workspaces.create(stranger, 'B', `b-${randomUUID().slice(0, 20)}`);
    const secret = await channels.create(owner, a.id, { name: 'secret', kind: 'public' });
    await expect(channelMembers.join(stranger, b.id, secret.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(channelMembers.join(stranger, a.id, secret.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(members.remove(stranger, b.id, owner)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(invites.revoke(stranger, a.id, 'whatever')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await events(secret.id)).toHaveLength(1);
  });
});
