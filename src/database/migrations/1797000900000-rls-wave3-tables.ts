import { MigrationInterface, QueryRunner } from 'typeorm';

const SYSTEM = '(SELECT pigeon_rls_system())';
const USERS = '(SELECT pigeon_rls_users())::uuid[]';

/**
 * Row-level security for the tables added beside it this wave: the outbox by its workspace (the API
 * writes it in the writer's transaction; the relay and sweeper read it under their named system
 * scopes), listening progress through its message like reactions and listen marks, and written only
 * by the listener.
 */
export class RlsWave3Tables1797000900000 implements MigrationInterface {
  name = 'RlsWave3Tables1797000900000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`SELECT pigeon_enable_tenant_rls('outbox', 'workspace_id')`);
    await queryRunner.query('ALTER TABLE listening_progress ENABLE ROW LEVEL SECURITY');
    await queryRunner.query('ALTER TABLE listening_progress FORCE ROW LEVEL SECURITY');
    const withMessage = `${SYSTEM} OR EXISTS (SELECT 1 FROM messages m WHERE m.id = message_id)`;
    await queryRunner.query(`CREATE POLICY tenant_message ON listening_progress USING (${withMessage}) WITH CHECK (${withMessage})`);
    await queryRunner.query(
      `CREATE POLICY member_write ON listening_progress AS RESTRICTIVE FOR INSERT WITH CHECK (${SYSTEM} OR user_id = ANY (${USERS}))`,
    );
    await queryRunner.query(
      `CREATE POLICY member_update ON listening_progress AS RESTRICTIVE FOR UPDATE USING (${SYSTEM} OR user_id = ANY (${USERS}))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['outbox', 'listening_progress']) {
      const policies: { policyname: string }[] = await queryRunner.query('SELECT policyname FROM pg_policies WHERE tablename = $1', [table]);
      for (const { policyname } of policies) await queryRunner.query(`DROP POLICY "${policyname}" ON ${table}`);
      await queryRunner.query(`ALTER TABLE ${table} NO FORCE ROW LEVEL SECURITY`);
      await queryRunner.query(`ALTER TABLE ${table} DISABLE ROW LEVEL SECURITY`);
    }
  }
}
