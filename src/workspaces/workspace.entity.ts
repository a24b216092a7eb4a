import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

@Entity('workspaces')
export class Workspace {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Index('uq_workspaces_slug', { unique: true })
  @Column({ type: 'varchar', length: 40 })
  slug: string;

  @Column({ name: 'created_by', type: 'uuid' })
  createdBy: string;

  /** Postgres text search configuration (a pg_ts_config name) the search triggers index messages with. */
  @Column({ name: 'search_config', type: 'varchar', length: 63, default: 'simple' })
  searchConfig: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
