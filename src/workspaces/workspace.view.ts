import type { EffectiveStatus } from '../presence/presence.service';
import type { WorkspaceRole } from './workspace-member.entity';

/** The contract's workspace shape, with the caller's role. */
export interface WorkspaceView {
  id: string;
  name: string;
  slug: string;
  createdAt: string;
  role: WorkspaceRole;
}

export interface MemberView {
  userId: string;
  displayName: string;
  role: WorkspaceRole;
  presence: EffectiveStatus;
}

export interface WorkspaceRow {
  id: string;
  name: string;
  slug: string;
  created_at: Date;
}

export function toWorkspaceView(row: WorkspaceRow, role: WorkspaceRole): WorkspaceView {
  return { id: row.id, name: row.name, slug: row.slug, createdAt: row.created_at.toISOString(), role };
}
