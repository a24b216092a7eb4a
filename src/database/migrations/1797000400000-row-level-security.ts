import { MigrationInterface, QueryRunner } from 'typeorm';

/** Tables keyed by a workspace column: visible to members of that workspace, or to a named system scope. */
const WORKSPACE_TABLES: [table: string, column: string][] = [
  ['workspaces', 'id'],
  ['workspace_members', 'workspace_id'],
  ['workspace_removals', 'workspace_id'],
  ['invites', 'workspace_id'],
  ['channels', 'workspace_id'],
  ['channel_members', 'workspace_id'],
  ['topics', 'workspace_id'],
  ['messages', 'workspace_id'],
  ['channel_events', 'workspace_id'],
  ['voice_clips', 'workspace_id'],
  ['webhooks', 'workspace_id'],
  ['webhook_deliveries', 'workspace_id'],
];

/** A member's own rows: their sessions and push endpoints. */
const MEMBER_TABLES = ['refresh_token_families', 'refresh_tokens', 'push_subscriptions'];

/** Rows of a message: visible with the message (whose own policy decides). */
const MESSAGE_TABLES = ['reactions', 'voice_listens'];

const SYSTEM = '(SELECT pigeon_rls_system())';
// The cast makes `= ANY (...)` the array form, not the subquery form.
const USERS = '(SELECT pigeon_rls_users())::uuid[]';

/**
 * Row-level security, the second tenant wall (see src/tenancy/). The application sets `pigeon.*`
 * per transaction through pigeon_tenant_enter(); policies compare against those settings through
 * scalar subqueries, which Postgres evaluates once per statement (an InitPlan), not once per row.
 * FORCE applies the policies to the tables' owner too; only superusers and BYPASSRLS roles skip them.
 * pigeon_enable_tenant_rls(table) is for later migrations that add a workspace table.
 */
export class RowLevelSecurity1797000400000 implements MigrationInterface {
  name = 'RowLevelSecurity1797000400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE OR REPLACE FUNCTION pigeon_rls_system() RETURNS boolean LANGUAGE sql STABLE
         AS $$ SELECT coalesce(current_setting('pigeon.scope', true), '') <> '' $$`,
    );
    await queryRunner.query(
      `CREATE OR REPLACE FUNCTION pigeon_rls_workspaces() RETURNS uuid[] LANGUAGE sql STABLE
         AS $$ SELECT NULLIF(current_setting('pigeon.workspace_ids', true), '')::uuid[] $$`,
    );
    await queryRunner.query(
      `CREATE OR REPLACE FUNCTION pigeon_rls_users() RETURNS uuid[] LANGUAGE sql STABLE
         AS $$ SELECT NULLIF(current_setting('pigeon.user_ids', true), '')::uuid[] $$`,
    );
    // Invoker's rights: the membership look-up itself goes through the workspace_members policy
    // (a user's own rows), so no definer function or BYPASSRLS role is needed.
    await queryRunner.query(
      `CREATE OR REPLACE FUNCTION pigeon_tenant_enter(p_users uuid[], p_scope text) RETURNS void LANGUAGE plpgsql AS $$
       BEGIN
         PERFORM set_config('pigeon.scope', coalesce(p_scope, ''), true);
         PERFORM set_config('pigeon.user_ids', coalesce(p_users, '{}')::text, true);
         -- Emptied first, so a second call in one transaction never keeps the previous caller's workspaces.
         PERFORM set_config('pigeon.workspace_ids', '{}', true);
         IF coalesce(p_scope, '') = '' AND cardinality(p_users) > 0 THEN
           PERFORM set_config('pigeon.workspace_ids',
             coalesce((SELECT array_agg(workspace_id)::text FROM workspace_members WHERE user_id = ANY (p_users)), '{}'), true);
         END IF;
       END $$`,
    );
    await queryRunner.query(
      `CREATE OR REPLACE FUNCTION pigeon_enable_tenant_rls(p_table regclass, p_column text DEFAULT 'workspace_id') RETURNS void
       LANGUAGE plpgsql AS $$
       BEGIN
         EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', p_table);
         EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', p_table);
         EXECUTE format('DROP POLICY IF EXISTS tenant_workspace ON %s', p_table);
         EXECUTE format(
           'CREATE POLICY tenant_workspace ON %s USING ((SELECT pigeon_rls_system()) OR %I = ANY ((SELECT pigeon_rls_workspaces())::uuid[])) '
           'WITH CHECK ((SELECT pigeon_rls_system()) OR %I = ANY ((SELECT pigeon_rls_workspaces())::uuid[]))',
           p_table, p_column, p_column);
       END $$`,
    );

    for (const [table, column] of WORKSPACE_TABLES)
      await queryRunner.query(`SELECT pigeon_enable_tenant_rls('${table}', '${column}')`);
    // One's own memberships, which pigeon_tenant_enter reads to find one's workspaces.
    await queryRunner.query(
      `CREATE POLICY member_own ON workspace_members FOR SELECT USING (user_id = ANY (${USERS}))`,
    );
    // Read marks and notification levels: only the member moves their own.
    await queryRunner.query(
      `CREATE POLICY member_update ON channel_members AS RESTRICTIVE FOR UPDATE USING (${SYSTEM} OR user_id = ANY (${USERS}))`,
    );

    for (const table of MEMBER_TABLES) {
      await this.force(queryRunner, table);
      await queryRunner.query(
        `CREATE POLICY member_own ON ${table} USING (${SYSTEM} OR user_id = ANY (${USERS})) WITH CHECK (${SYSTEM} OR user_id = ANY (${USERS}))`,
      );
    }

    const withMessage = `${SYSTEM} OR EXISTS (SELECT 1 FROM messages m WHERE m.id = message_id)`;
    for (const table of MESSAGE_TABLES) {
      await this.force(queryRunner, table);
      await queryRunner.query(
        `CREATE POLICY tenant_message ON ${table} USING (${withMessage}) WITH CHECK (${withMessage})`,
      );
    }
    // A listen mark is the listener's own.
    await queryRunner.query(
      `CREATE POLICY member_insert ON voice_listens AS RESTRICTIVE FOR INSERT WITH CHECK (${SYSTEM} OR user_id = ANY (${USERS}))`,
    );

    // Users: oneself, and whoever shares a workspace with one (names, avatars); e-mail look-ups are the auth scopes'.
    await this.force(queryRunner, 'users');
    const visibleUser = `${SYSTEM} OR id = ANY (${USERS}) OR EXISTS (SELECT 1 FROM workspace_members wm WHERE wm.user_id = users.id)`;
    await queryRunner.query(
      `CREATE POLICY tenant_user ON users USING (${visibleUser}) WITH CHECK (${SYSTEM} OR id = ANY (${USERS}))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const tables = [...WORKSPACE_TABLES.map(([table]) => table), ...MEMBER_TABLES, ...MESSAGE_TABLES, 'users'];
    for (const table of tables) {
      const policies: { policyname: string }[] = await queryRunner.query(
        'SELECT policyname FROM pg_policies WHERE tablename = $1',
        [table],
      );
      for (const { policyname } of policies) await queryRunner.query(`DROP POLICY "${policyname}" ON ${table}`);
      await queryRunner.query(`ALTER TABLE ${table} NO FORCE ROW LEVEL SECURITY`);
      await queryRunner.query(`ALTER TABLE ${table} DISABLE ROW LEVEL SECURITY`);
    }
    for (const fn of [
      'pigeon_enable_tenant_rls(regclass, text)',
      'pigeon_tenant_enter(uuid[], text)',
      'pigeon_rls_users()',
      'pigeon_rls_workspaces()',
      'pigeon_rls_system()',
    ]) {
      await queryRunner.query(`DROP FUNCTION IF EXISTS ${fn}`);
    }
  }

  private async force(queryRunner: QueryRunner, table: string): Promise<void> {
    await queryRunner.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
    await queryRunner.query(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
  }
}
