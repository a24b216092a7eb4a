import type { Member, Workspace } from '../protocol/wire';
import type { WorkspaceRole } from './workspace-member.entity';

// The wire shapes live in src/protocol (shared with the SDK); these names are the server's.
/** The contract's workspace shape, with the caller's role. */
export type WorkspaceView = Workspace;
export type MemberView = Member;

export interface WorkspaceRow {
  id: string;
  name: string;
  slug: string;
  created_at: Date;
}

export function toWorkspaceView(row: WorkspaceRow, role: WorkspaceRole): WorkspaceView {
  return { id: row.id, name: row.name, slug: row.slug, createdAt: row.created_at.toISOString(), role };
}
