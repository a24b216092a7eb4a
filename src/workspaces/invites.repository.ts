import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { entityRows, RowMapper } from '../database/entity-rows';
import { Invite } from './invite.entity';

export type NewInviteRow = Pick<Invite, 'workspaceId' | 'code' | 'role' | 'maxUses' | 'createdBy'> & {
  expiresInHours: number;
};

/**
 * The invites table. Revocation is scoped by workspace; acceptance is by code alone, since the code
 * is the secret that names the workspace.
 */
@Injectable()
export class InvitesRepository {
  private readonly toInvite: RowMapper<Invite>;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.toInvite = entityRows(dataSource, Invite);
  }

  async insert(invite: NewInviteRow): Promise<Invite> {
    // The expiry comes from the database clock, the one acceptance compares it with.
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `INSERT INTO invites (workspace_id, code, role, max_uses, expires_at, created_by)
       VALUES ($1, $2, $3, $4, now() + make_interval(hours => $5), $6) RETURNING *`,
      [invite.workspaceId, invite.code, invite.role, invite.maxUses, invite.expiresInHours, invite.createdBy],
    );
    return this.toInvite(rows[0]);
  }

  /** False when the workspace has no such live code. */
  async revoke(workspaceId: string, code: string): Promise<boolean> {
    // TypeORM answers an UPDATE with [rows, affected].
    const [, revoked]: [unknown[], number] = await this.dataSource.query(
      'UPDATE invites SET revoked_at = now() WHERE workspace_id = $1 AND code = $2 AND revoked_at IS NULL RETURNING id',
      [workspaceId, code],
    );
    return revoked > 0;
  }

  /**
   * The invite `code` names, if the user may still accept it: not revoked, not expired, and not made
   * before an admin removed this user from its workspace.
   */
  async findAcceptable(manager: EntityManager, code: string, userId: string): Promise<Invite | null> {
    const rows: Record<string, unknown>[] = await manager.query(
      `SELECT i.* FROM invites i
        WHERE i.code = $1 AND i.expires_at > now() AND i.revoked_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM workspace_removals r
                           WHERE r.workspace_id = i.workspace_id AND r.user_id = $2 AND r.removed_at >= i.created_at)`,
      [code, userId],
    );
    return rows.length ? this.toInvite(rows[0]) : null;
  }

  /** Spends one use; false when used up or expired. Conditional, so concurrent accepts never exceed maxUses. */
  async consumeUse(manager: EntityManager, inviteId: string): Promise<boolean> {
    const [, consumed]: [unknown[], number] = await manager.query(
      `UPDATE invites SET uses = uses + 1
        WHERE id = $1 AND expires_at > now() AND (max_uses IS NULL OR uses < max_uses) RETURNING id`,
      [inviteId],
    );
    return consumed > 0;
  }
}
