import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';

/**
 * A member removed by an owner or admin: invites made before `removedAt` no longer let them in
 * (a new invite does). Leaving by oneself writes nothing here.
 */
@Entity('workspace_removals')
export class WorkspaceRemoval {
  @ForeignKey('Workspace', { name: 'fk_workspace_removals_workspace', onDelete: 'CASCADE' })
  @PrimaryColumn({ name: 'workspace_id', type: 'uuid' })
  workspaceId: string;

  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ name: 'removed_by', type: 'uuid' })
  removedBy: string;

  @Column({ name: 'removed_at', type: 'timestamptz', default: () => 'now()' })
  removedAt: Date;
}
