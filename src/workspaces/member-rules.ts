import { AppException } from '../common/app.exception';
import type { WorkspaceRole } from './workspace-member.entity';

/** Who may change whose role or membership; pure so the rules are unit-tested on their own. */
export interface MemberChange {
  callerId: string;
  callerRole: WorkspaceRole;
  targetId: string;
  targetRole: WorkspaceRole;
  /** Owners of the workspace, read under the workspace lock. */
  ownerCount: number;
}

const isManager = (role: WorkspaceRole) => role === 'owner' || role === 'admin';

export function assertRoleChange(change: MemberChange, newRole: WorkspaceRole): void {
  if (!isManager(change.callerRole)) throw AppException.forbidden('Only owners and admins may change roles');
  if ((change.targetRole === 'owner' || newRole === 'owner') && change.callerRole !== 'owner') {
    throw AppException.forbidden('Only owners may grant or take away the owner role');
  }
  if (change.targetRole === 'owner' && newRole !== 'owner' && change.ownerCount <= 1) {
    throw AppException.conflict('The last owner cannot be demoted; make someone else owner first');
  }
}

export function assertRemoval(change: MemberChange): void {
  const leaving = change.callerId === change.targetId;
  if (!leaving) {
    if (!isManager(change.callerRole)) throw AppException.forbidden('Only owners and admins may remove members');
    if (change.targetRole === 'owner' && change.callerRole !== 'owner')
      throw AppException.forbidden('Only owners may remove an owner');
  }
  if (change.targetRole === 'owner' && change.ownerCount <= 1) {
    throw AppException.conflict('The last owner cannot leave; make someone else owner first');
  }
}
