import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { User } from '../users/user.entity';
import type { WorkspaceMember, WorkspaceRole } from './workspace-member.entity';

/** A member as the member list shows them: the membership and the user's display name. */
export type NamedMember = Pick<WorkspaceMember, 'userId' | 'role'> & Pick<User, 'displayName'>;

const NAMED_MEMBER_COLUMNS = 'm.user_id AS "userId", u.display_name AS "displayName", m.role';

/** The workspace_members table, and workspace_removals, which only member removals write. */
@Injectable()
export class WorkspaceMembersRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** False when the user is already a member (whatever their role). */
  async insertIfAbsent(
    manager: EntityManager,
    workspaceId: string,
    userId: string,
    role: WorkspaceRole,
  ): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO workspace_members (workspace_id, user_id, role) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING RETURNING role`,
      [workspaceId, userId, role],
    );
    return rows.length > 0;
  }

  async findRole(
    workspaceId: string,
    userId: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<WorkspaceRole | null> {
    const rows: { role: WorkspaceRole }[] = await manager.query(
      'SELECT role FROM workspace_members WHERE workspace_id = $1 AND user_id = $2',
      [workspaceId, userId],
    );
    return rows[0]?.role ?? null;
  }

  /**
   * The users among `userIds` who are members, their rows share-locked (in id order) until the
   * transaction ends, so a concurrent removal from the workspace waits for it.
   */
  async lockPresent(manager: EntityManager, workspaceId: string, userIds: string[]): Promise<string[]> {
    if (userIds.length === 0) return [];
    const rows: { user_id: string }[] = await manager.query(
      `SELECT user_id FROM workspace_members WHERE workspace_id = $1 AND user_id = ANY($2::uuid[])
        ORDER BY user_id FOR KEY SHARE`,
      [workspaceId, userIds],
    );
    return rows.map((row) => row.user_id);
  }

  /** Every member: owners, admins, members, guests, then by name. */
  list(workspaceId: string): Promise<NamedMember[]> {
    return this.dataSource.query(
      `SELECT ${NAMED_MEMBER_COLUMNS}
         FROM workspace_members m JOIN users u ON u.id = m.user_id
        WHERE m.workspace_id = $1
        ORDER BY array_position(ARRAY['owner','admin','member','guest']::varchar[], m.role), u.display_name, u.id`,
      [workspaceId],
    );
  }

  /** The named members among `userIds`, with the workspace's owner count read in the same snapshot. */
  async findWithOwnerCount(
    manager: EntityManager,
    workspaceId: string,
    userIds: string[],
  ): Promise<{ members: NamedMember[]; ownerCount: number }> {
    const rows: (NamedMember & { owner_count: string })[] = await manager.query(
      `SELECT ${NAMED_MEMBER_COLUMNS},
              (SELECT count(*) FROM workspace_members o WHERE o.workspace_id = $1 AND o.role = 'owner') AS owner_count
         FROM workspace_members m JOIN users u ON u.id = m.user_id
        WHERE m.workspace_id = $1 AND m.user_id = ANY($2::uuid[])`,
      [workspaceId, userIds],
    );
    const members = rows.map(({ userId, displayName, role }) => ({ userId, displayName, role }));
    return { members, ownerCount: Number(rows[0]?.owner_count ?? 0) };
  }

  async updateRole(manager: EntityManager, workspaceId: string, userId: string, role: WorkspaceRole): Promise<void> {
    await manager.query('UPDATE workspace_members SET role = $3 WHERE workspace_id = $1 AND user_id = $2', [
      workspaceId,
      userId,
      role,
    ]);
  }

  async delete(manager: EntityManager, workspaceId: string, userId: string): Promise<void> {
    await manager.query('DELETE FROM workspace_members WHERE workspace_id = $1 AND user_id = $2', [
      workspaceId,
      userId,
    ]);
  }

  /** Invites made before now no longer let the user back in (a newer invite does). */
  async recordRemoval(manager: EntityManager, workspaceId: string, userId: string, removedBy: string): Promise<void> {
    await manager.query(
      `INSERT INTO workspace_removals (workspace_id, user_id, removed_by) VALUES ($1, $2, $3)
       ON CONFLICT (workspace_id, user_id) DO UPDATE SET removed_at = now(), removed_by = EXCLUDED.removed_by`,
      [workspaceId, userId, removedBy],
    );
  }
}
