import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { entityRows, RowMapper } from '../database/entity-rows';
import type { WorkspaceRole } from './workspace-member.entity';
import { Workspace } from './workspace.entity';

export type NewWorkspaceRow = Pick<Workspace, 'name' | 'slug' | 'createdBy'>;

/** The workspaces table. */
@Injectable()
export class WorkspacesRepository {
  private readonly toWorkspace: RowMapper<Workspace>;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.toWorkspace = entityRows(dataSource, Workspace);
  }

  /** The new workspace, or null when the slug is taken. */
  async insertIfAbsent(manager: EntityManager, workspace: NewWorkspaceRow): Promise<Workspace | null> {
    const rows: Record<string, unknown>[] = await manager.query(
      'INSERT INTO workspaces (name, slug, created_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING *',
      [workspace.name, workspace.slug, workspace.createdBy],
    );
    return rows.length ? this.toWorkspace(rows[0]) : null;
  }

  findById(workspaceId: string): Promise<Workspace | null> {
    return this.dataSource.manager.findOneBy(Workspace, { id: workspaceId });
  }

  /** The user's workspaces with their role in each, oldest first. */
  async listForUser(userId: string): Promise<{ workspace: Workspace; role: WorkspaceRole }[]> {
    const rows: (Record<string, unknown> & { member_role: WorkspaceRole })[] = await this.dataSource.query(
      `SELECT w.*, m.role AS member_role
         FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id
        WHERE m.user_id = $1
        ORDER BY w.created_at, w.id`,
      [userId],
    );
    return rows.map((row) => ({ workspace: this.toWorkspace(row), role: row.member_role }));
  }

  /**
   * Locks the workspace row against other role changes and removals. FOR NO KEY UPDATE still lets
   * invites insert members (their foreign key check only takes KEY SHARE). False for an unknown id.
   */
  async lockForMemberChange(manager: EntityManager, workspaceId: string): Promise<boolean> {
    const rows: unknown[] = await manager.query('SELECT 1 FROM workspaces WHERE id = $1 FOR NO KEY UPDATE', [
      workspaceId,
    ]);
    return rows.length > 0;
  }
}
