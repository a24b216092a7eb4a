import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AccessService } from '../access/access.service';
import { MembershipBus } from '../access/membership-bus.service';
import { ChannelsService } from '../channels/channels.service';
import { AppException } from '../common/app.exception';
import { ChannelLog } from '../messages/channel-log';
import type { WorkspaceRole } from './workspace-member.entity';
import { toWorkspaceView, WorkspaceRow, WorkspaceView } from './workspace.view';

export const GENERAL_CHANNEL = 'general';

@Injectable()
export class WorkspacesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly access: AccessService,
    private readonly membershipBus: MembershipBus,
    private readonly channels: ChannelsService,
    private readonly log: ChannelLog,
  ) {}

  /** The workspace, its owner and its public `general` channel, all or nothing. */
  async create(callerId: string, name: string, slug: string): Promise<WorkspaceView> {
    const { workspace } = await this.log.transaction(async (manager) => {
      const rows: WorkspaceRow[] = await manager.query(
        `INSERT INTO workspaces (name, slug, created_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING *`,
        [name, slug, callerId],
      );
      if (rows.length === 0) throw AppException.conflict(`The slug "${slug}" is taken`);
      await manager.query(`INSERT INTO workspace_members (workspace_id, user_id, role) VALUES ($1, $2, 'owner')`, [
        rows[0].id,
        callerId,
      ]);
      const channel = await this.channels.createInTransaction(manager, {
        workspaceId: rows[0].id,
        name: GENERAL_CHANNEL,
        kind: 'public',
        createdBy: callerId,
        memberIds: [callerId],
      });
      return { workspace: rows[0], general: channel! };
    });
    // A workspace-level change joins the user's sockets to the workspace and each of its channels they are in.
    await this.membershipBus.changed({ workspaceId: workspace.id, userId: callerId });
    return toWorkspaceView(workspace, 'owner');
  }

  async list(callerId: string): Promise<WorkspaceView[]> {
    const rows: (WorkspaceRow & { role: WorkspaceRole })[] = await this.dataSource.query(
      `SELECT w.id, w.name, w.slug, w.created_at, m.role
         FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id
        WHERE m.user_id = $1
        ORDER BY w.created_at, w.id`,
      [callerId],
    );
    return rows.map((row) => toWorkspaceView(row, row.role));
  }

  async get(callerId: string, workspaceId: string): Promise<WorkspaceView> {
    const role = await this.access.requireWorkspaceMember(workspaceId, callerId);
    const rows: WorkspaceRow[] = await this.dataSource.query('SELECT * FROM workspaces WHERE id = $1', [workspaceId]);
    if (rows.length === 0) throw AppException.notFound('Workspace');
    return toWorkspaceView(rows[0], role);
  }
}
