import { Type } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { ENTITIES } from '../../src/database/entities';
import { TEST_DATABASE_URL } from '../support/env';

/**
 * The medium tier (immich `server/test/medium/`): the modules under test, built by a Nest testing
 * module against this run's real Postgres (migrated by global-setup). Suites share the database, so
 * every fixture is made unique. The connection is the owner's through the plain pg driver: these
 * suites prove the repositories' own workspace filters, with no other tenant wall beneath them.
 */
export async function databaseModule(modules: Type[]): Promise<{ module: TestingModule; dataSource: DataSource }> {
  const module = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({ type: 'postgres', url: TEST_DATABASE_URL, entities: ENTITIES, extra: { max: 4 } }),
      ...modules,
    ],
  }).compile();
  await module.init();
  return { module, dataSource: module.get<DataSource>(getDataSourceToken()) };
}

/** Fixtures written with plain SQL, so the repositories under test are not used to set themselves up. */
export class Seed {
  constructor(private readonly db: DataSource | EntityManager) {}

  async user(name = 'user'): Promise<string> {
    const rows: { id: string }[] = await this.db.query(
      `INSERT INTO users (email, password_hash, display_name) VALUES ($1, 'x', $2) RETURNING id`,
      [`${name}-${randomUUID()}@medium.test`, name],
    );
    return rows[0].id;
  }

  async workspace(ownerId: string): Promise<string> {
    const rows: { id: string }[] = await this.db.query(
      `INSERT INTO workspaces (name, slug, created_by) VALUES ('Medium', $1, $2) RETURNING id`,
      [`m-${randomUUID().slice(0, 30)}`, ownerId],
    );
    await this.member(rows[0].id, ownerId, 'owner');
    return rows[0].id;
  }

  async member(workspaceId: string, userId: string, role = 'member'): Promise<void> {
    await this.db.query('INSERT INTO workspace_members (workspace_id, user_id, role) VALUES ($1, $2, $3)', [
      workspaceId,
      userId,
      role,
    ]);
  }

  async channel(
    workspaceId: string,
    createdBy: string,
    options: { name?: string; kind?: 'public' | 'private' | 'direct'; members?: string[] } = {},
  ): Promise<string> {
    const rows: { id: string }[] = await this.db.query(
      `INSERT INTO channels (workspace_id, name, kind, created_by) VALUES ($1, $2, $3, $4) RETURNING id`,
      [workspaceId, options.name ?? `c-${randomUUID().slice(0, 8)}`, options.kind ?? 'public', createdBy],
    );
    for (const userId of options.members ?? []) {
      await this.db.query('INSERT INTO channel_members (channel_id, user_id, workspace_id) VALUES ($1, $2, $3)', [
        rows[0].id,
        userId,
        workspaceId,
      ]);
    }
    return rows[0].id;
  }

  /** A text message at the channel's next seq (the head moves with it). */
  async message(
    workspaceId: string,
    channelId: string,
    authorId: string,
    options: { deleted?: boolean; body?: string } = {},
  ): Promise<string> {
    const rows: { id: string }[] = await this.db.query(
      `WITH head AS (UPDATE channels SET head_seq = head_seq + 1 WHERE id = $2 RETURNING head_seq)
       INSERT INTO messages (workspace_id, channel_id, seq, author_id, client_msg_id, kind, body, deleted_at)
       SELECT $1, $2, head.head_seq, $3, $4, 'text', $6, $5 FROM head RETURNING id`,
      [workspaceId, channelId, authorId, randomUUID(), options.deleted ? new Date() : null, options.body ?? 'hello'],
    );
    return rows[0].id;
  }
}
