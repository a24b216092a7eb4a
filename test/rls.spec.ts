import pg from 'pg';
import { DataSource } from 'typeorm';
import { tenantPg } from '../src/tenancy/tenant-pool';
import { runAsSystem, runAsUser } from '../src/tenancy/tenant-context';
import { Api, registerUser, TestUser } from './support/api';
import { TEST_APP_DATABASE_URL, TEST_DATABASE_URL } from './support/env';
import { createWorkspace, TestWorkspace } from './support/fixtures';
import { startServer, TestServer } from './support/server';

/**
 * Row-level security, the second tenant wall: queries that forget their workspace filter, run through
 * the application's data layer (TypeORM over the tenant-aware pg pool, as the application role), see
 * only the caller's workspaces; every table with a workspace column is covered; crossing tenants takes
 * a named system scope.
 */
describe('row-level security', () => {
  let server: TestServer;
  let api: Api;
  let owner: pg.Client;
  let app: DataSource;
  let a: TestWorkspace;
  let b: TestWorkspace;
  let outsider: TestUser;

  const count = async (sql: string, params: unknown[] = []) =>
    Number(((await app.query(sql, params)) as { n: string }[])[0].n);
  const ownerCount = async (sql: string, params: unknown[] = []) =>
    Number((await owner.query<{ n: string }>(sql, params)).rows[0].n);

  /** Tables with a workspace column (and `workspaces` itself): the tenant tables, from the catalog. */
  async function tenantTables(): Promise<{ table: string; column: string }[]> {
    const { rows } = await owner.query<{ table: string; column: string }>(
      `SELECT c.relname AS table, CASE WHEN c.relname = 'workspaces' THEN 'id' ELSE 'workspace_id' END AS column
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
          AND (c.relname = 'workspaces' OR EXISTS (
                SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'workspace_id' AND NOT a.attisdropped))
        ORDER BY 1`,
    );
    return rows;
  }

  beforeAll(async () => {
    server = await startServer();
    api = new Api(server.url);
    a = await createWorkspace(api);
    b = await createWorkspace(api);
    outsider = await registerUser(api, 'outsider');
    for (const ws of [a, b]) {
      const token = ws.owner.accessToken;
      const base = `/api/workspaces/${ws.id}/channels/${ws.generalId}`;
      const sent = await api.post(`${base}/messages`, { clientMsgId: `m-${ws.id}`, body: `secret of ${ws.id}` }, token);
      expect(sent.status).toBe(201);
      const messageId = (sent.body.message ?? sent.body).id as string;
      expect(
        (await api.request('PUT', `${base}/messages/${messageId}/reactions/${encodeURIComponent('👍')}`, { token }))
          .status,
      ).toBeLessThan(300);
      expect((await api.post(`${base}/topics`, { title: 'plans' }, token)).status).toBe(201);
      expect((await api.post(`/api/workspaces/${ws.id}/invites`, { role: 'member' }, token)).status).toBe(201);
      expect(
        (
          await api.post(
            `/api/workspaces/${ws.id}/webhooks`,
            { url: 'http://127.0.0.1:9/hook', events: ['message.created'] },
            token,
          )
        ).status,
      ).toBe(201);
    }
    owner = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await owner.connect();
    app = await runAsSystem('test.init', () =>
      new DataSource({
        type: 'postgres',
        url: TEST_APP_DATABASE_URL,
        driver: tenantPg,
        extra: { max: 1 },
      }).initialize(),
    );
  });

  afterAll(async () => {
    await app?.destroy();
    await owner?.end();
    await server?.stop();
  });

  it('runs the servers as a role that row-level security applies to', async () => {
    const role = (await runAsSystem('test', () =>
      app.query('SELECT current_user AS name, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user'),
    )) as {
      name: string;
      rolsuper: boolean;
      rolbypassrls: boolean;
    }[];
    expect(role[0]).toMatchObject({ rolsuper: false, rolbypassrls: false });
    expect(
      await ownerCount(`SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public' AND tableowner = $1`, [
        role[0].name,
      ]),
    ).toBe(0);
  });

  it('a query that forgets its workspace filter returns nothing of another workspace', async () => {
    const rows = (await runAsUser(a.owner.id, () => app.query('SELECT * FROM messages'))) as {
      workspace_id: string;
      body: string;
    }[];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.workspace_id === a.id)).toBe(true);
    expect(rows.some((r) => r.body.includes(b.id))).toBe(false);
    // Every other unfiltered read, and a filter naming B outright.
    await runAsUser(a.owner.id, async () => {
      expect(await count('SELECT count(*) AS n FROM channels WHERE workspace_id = $1', [b.id])).toBe(0);
      expect(await count('SELECT count(*) AS n FROM channel_events WHERE workspace_id = $1', [b.id])).toBe(0);
      expect(await count('SELECT count(*) AS n FROM workspaces WHERE id = $1', [b.id])).toBe(0);
      expect(
        await count(
          'SELECT count(*) AS n FROM reactions r JOIN messages m ON m.id = r.message_id WHERE m.workspace_id <> $1',
          [a.id],
        ),
      ).toBe(0);
      expect(await count('SELECT count(*) AS n FROM reactions')).toBe(
        await ownerCount(
          'SELECT count(*) AS n FROM reactions r JOIN messages m ON m.id = r.message_id WHERE m.workspace_id = $1',
          [a.id],
        ),
      );
      // Users: oneself and co-members only, never B's owner (an e-mail address is tenant data too).
      expect(await count('SELECT count(*) AS n FROM users WHERE id = $1', [b.owner.id])).toBe(0);
      expect(await count('SELECT count(*) AS n FROM users WHERE id = $1', [a.owner.id])).toBe(1);
      // Member rows: A's owner sees only their own sessions.
      expect(await count('SELECT count(*) AS n FROM refresh_tokens WHERE user_id <> $1', [a.owner.id])).toBe(0);
      expect(await count('SELECT count(*) AS n FROM refresh_tokens')).toBeGreaterThan(0);
    });
    expect(await ownerCount('SELECT count(*) AS n FROM messages WHERE workspace_id = $1', [b.id])).toBeGreaterThan(0);
  });

  it('writes into another workspace are refused, and updates and deletes touch nothing there', async () => {
    await runAsUser(a.owner.id, async () => {
      await expect(
        app.query(`INSERT INTO topics (workspace_id, channel_id, title, created_by) VALUES ($1, $2, 'x', $3)`, [
          b.id,
          b.generalId,
          a.owner.id,
        ]),
      ).rejects.toThrow(/row-level security/);
      const [, updated] = (await app.query(`UPDATE messages SET body = 'pwned' WHERE workspace_id = $1`, [b.id])) as [
        unknown,
        number,
      ];
      expect(updated).toBe(0);
      const [, deleted] = (await app.query('DELETE FROM channel_members WHERE workspace_id = $1', [b.id])) as [
        unknown,
        number,
      ];
      expect(deleted).toBe(0);
      // Another member's read mark is not theirs to move, even in their own workspace.
      const [, moved] = (await app.query('UPDATE channel_members SET last_read_seq = 0 WHERE user_id <> $1', [
        a.owner.id,
      ])) as [unknown, number];
      expect(moved).toBe(0);
    });
    expect(await ownerCount(`SELECT count(*) AS n FROM messages WHERE body = 'pwned'`)).toBe(0);
  });

  it('covers every table with a workspace column: RLS enabled and forced, a policy, and only own workspaces visible', async () => {
    const tables = await tenantTables();
    expect(tables.map((t) => t.table)).toEqual(
      expect.arrayContaining(['channels', 'messages', 'workspace_members', 'workspaces']),
    );
    const { rows: flags } = await owner.query<{
      relname: string;
      relrowsecurity: boolean;
      relforcerowsecurity: boolean;
      policies: string;
    }>(
      `SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, (SELECT count(*) FROM pg_policies p WHERE p.tablename = c.relname) AS policies
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relname = ANY ($1)`,
      [tables.map((t) => t.table)],
    );
    const uncovered = flags
      .filter((f) => !f.relrowsecurity || !f.relforcerowsecurity || Number(f.policies) === 0)
      .map((f) => f.relname);
    // A new tenant table needs `SELECT pigeon_enable_tenant_rls('<table>')` in its migration.
    expect(uncovered).toEqual([]);
    for (const { table, column } of tables) {
      const seen = await runAsUser(a.owner.id, () => count(`SELECT count(*) AS n FROM ${table}`));
      const own = await ownerCount(`SELECT count(*) AS n FROM ${table} WHERE ${column} = $1`, [a.id]);
      expect({ table, seen }).toEqual({ table, seen: own });
      expect({
        table,
        others: await runAsUser(a.owner.id, () =>
          count(`SELECT count(*) AS n FROM ${table} WHERE ${column} <> $1`, [a.id]),
        ),
      }).toEqual({
        table,
        others: 0,
      });
    }
    // Member and message-scoped tables have RLS too.
    const { rows: others } = await owner.query<{ relname: string }>(
      `SELECT relname FROM pg_class WHERE relname = ANY ($1) AND relrowsecurity AND relforcerowsecurity`,
      [['users', 'refresh_tokens', 'refresh_token_families', 'push_subscriptions', 'reactions', 'voice_listens']],
    );
    expect(others).toHaveLength(6);
  });

  it('needs a context for any query, and a named system scope to cross tenants', async () => {
    await expect(app.query('SELECT 1')).rejects.toThrow(/outside a tenant context/);
    // A user in no workspace sees no workspace data at all.
    expect(await runAsUser(outsider.id, () => count('SELECT count(*) AS n FROM messages'))).toBe(0);
    // The system scope sees both, by name.
    const both = await runAsSystem('test.cross-tenant', () =>
      count('SELECT count(DISTINCT workspace_id) AS n FROM messages WHERE workspace_id = ANY ($1)', [[a.id, b.id]]),
    );
    expect(both).toBe(2);
    // A transaction keeps its caller's context; a statement in a nested scope switches it and back.
    await runAsUser(a.owner.id, () =>
      app.transaction(async (manager) => {
        expect(await manager.query('SELECT DISTINCT workspace_id FROM messages')).toEqual([{ workspace_id: a.id }]);
        const crossing = await runAsSystem('test.nested', () =>
          manager.query('SELECT count(DISTINCT workspace_id) AS n FROM messages'),
        );
        expect(Number(crossing[0].n)).toBeGreaterThanOrEqual(2);
        expect(await manager.query('SELECT DISTINCT workspace_id FROM messages')).toEqual([{ workspace_id: a.id }]);
      }),
    );
  });

  it('applies the context to transactions with an isolation level too (SET TRANSACTION must come first)', async () => {
    await runAsUser(a.owner.id, () =>
      app.transaction('SERIALIZABLE', async (manager) => {
        expect(await manager.query('SHOW transaction_isolation')).toEqual([{ transaction_isolation: 'serializable' }]);
        expect(await manager.query('SELECT DISTINCT workspace_id FROM messages')).toEqual([{ workspace_id: a.id }]);
      }),
    );
  });

  it('never lets a setting outlive its transaction on a pooled connection', async () => {
    // One connection (max: 1): B's statement reuses the very connection A's just used.
    expect(await runAsUser(a.owner.id, () => app.query('SELECT DISTINCT workspace_id FROM messages'))).toEqual([
      { workspace_id: a.id },
    ]);
    expect(await runAsUser(b.owner.id, () => app.query('SELECT DISTINCT workspace_id FROM messages'))).toEqual([
      { workspace_id: b.id },
    ]);
    // A failing statement rolls back and leaves the connection usable for the next caller.
    await expect(runAsUser(a.owner.id, () => app.query('SELECT * FROM no_such_table'))).rejects.toThrow();
    expect(await runAsUser(b.owner.id, () => app.query('SELECT DISTINCT workspace_id FROM messages'))).toEqual([
      { workspace_id: b.id },
    ]);
    // A runner released in the middle of a transaction: the next checkout does not inherit it.
    await runAsUser(a.owner.id, async () => {
      const runner = app.createQueryRunner();
      await runner.startTransaction();
      await runner.query(
        `INSERT INTO topics (workspace_id, channel_id, title, created_by) VALUES ($1, $2, 'left open', $3)`,
        [a.id, a.generalId, a.owner.id],
      );
      await runner.release();
    });
    const [fresh] = (await runAsUser(b.owner.id, () => app.query('SELECT txid_current_if_assigned() AS xid'))) as {
      xid: string | null;
    }[];
    expect(fresh.xid).toBeNull();
    expect(await ownerCount(`SELECT count(*) AS n FROM topics WHERE title = 'left open'`)).toBe(0);
    expect(await runAsUser(b.owner.id, () => app.query('SELECT DISTINCT workspace_id FROM messages'))).toEqual([
      { workspace_id: b.id },
    ]);
  });

  it('keeps the API working end to end as the application role: own data, NOT_FOUND for the other workspace', async () => {
    const own = await api.get(`/api/workspaces/${a.id}/channels/${a.generalId}/messages`, a.owner.accessToken);
    expect(own.status).toBe(200);
    const other = await api.get(`/api/workspaces/${b.id}/channels/${b.generalId}/messages`, a.owner.accessToken);
    expect(other.status).toBe(404);
  });
});
