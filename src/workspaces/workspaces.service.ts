import { Injectable } from '@nestjs/common';
import { AccessService } from '../access/access.service';
import { MembershipBus } from '../access/membership-bus.service';
import { ChannelLog } from '../messages/channel-log';
import { ChannelsService } from '../channels/channels.service';
import { AppException } from '../common/app.exception';
import { WorkspaceMembersRepository } from './workspace-members.repository';
import { toWorkspaceView, WorkspaceView } from './workspace.view';
import { WorkspacesRepository } from './workspaces.repository';

export const GENERAL_CHANNEL = 'general';

@Injectable()
export class WorkspacesService {
  constructor(
    private readonly access: AccessService,
    private readonly membershipBus: MembershipBus,
    private readonly log: ChannelLog,
    private readonly channels: ChannelsService,
    private readonly workspaces: WorkspacesRepository,
    private readonly members: WorkspaceMembersRepository,
  ) {}

  /** The workspace, its owner and its public `general` channel, all or nothing. */
  async create(callerId: string, name: string, slug: string): Promise<WorkspaceView> {
    const workspace = await this.log.transaction(async (manager) => {
      const created = await this.workspaces.insertIfAbsent(manager, { name, slug, createdBy: callerId });
      if (!created) throw AppException.conflict(`The slug "${slug}" is taken`);
      await this.members.insertIfAbsent(manager, created.id, callerId, 'owner');
      await this.channels.createInTransaction(manager, {
        workspaceId: created.id,
        name: GENERAL_CHANNEL,
        kind: 'public',
        createdBy: callerId,
        memberIds: [callerId],
      });
      return created;
    });
    // A workspace-level change joins the user's sockets to the workspace and each of its channels they are in.
    await this.membershipBus.changed({ workspaceId: workspace.id, userId: callerId });
    return toWorkspaceView(workspace, 'owner');
  }

  async list(callerId: string): Promise<WorkspaceView[]> {
    const rows = await this.workspaces.listForUser(callerId);
    return rows.map(({ workspace, role }) => toWorkspaceView(workspace, role));
  }

  async get(callerId: string, workspaceId: string): Promise<WorkspaceView> {
    const role = await this.access.requireWorkspaceMember(workspaceId, callerId);
    const workspace = await this.workspaces.findById(workspaceId);
    if (!workspace) throw AppException.notFound('Workspace');
    return toWorkspaceView(workspace, role);
  }
}
