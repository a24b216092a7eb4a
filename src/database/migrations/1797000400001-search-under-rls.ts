import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Under row-level security Postgres evaluates the policies before any operator that is not
 * LEAKPROOF, so `search_vector @@ query` can no longer use the GIN index and search scans every
 * message of the visible channels. The text-match function reveals nothing through errors about
 * rows it is handed, so it is marked LEAKPROOF; that takes a superuser, so where migrations run
 * without one this is skipped with a notice and README tells the DBA the one statement to run.
 */
export class SearchUnderRls1797000400001 implements MigrationInterface {
  name = 'SearchUnderRls1797000400001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DO $$
      BEGIN
        IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
          ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF;
        ELSE
          RAISE NOTICE 'not a superuser: run ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF as one, or search cannot use its index';
        END IF;
      END $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DO $$
      BEGIN
        IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
          ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) NOT LEAKPROOF;
        END IF;
      END $$`);
  }
}
