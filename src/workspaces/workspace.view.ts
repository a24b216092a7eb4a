import type { Member, Workspace as WireWorkspace } from '../protocol/wire';
import type { WorkspaceRole } from './workspace-member.entity';
import type { Workspace } from './workspace.entity';

// The wire shapes live in src/protocol (shared with the SDK); these names are the server's.
/** The contract's workspace shape, with the caller's role. */
export type WorkspaceView = WireWorkspace;
export type MemberView = Member;

export function toWorkspaceView(workspace: Workspace, role: WorkspaceRole): WorkspaceView {
  return {
    id: workspace.id,
    name: workspace.name,
    slug: workspace.slug,
    createdAt: workspace.createdAt.toISOString(),
    role,
  };
}
