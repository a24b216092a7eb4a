import { MigrationInterface, QueryRunner } from 'typeorm';

/** Revocable invites, and the removals that old invites no longer undo. */
export class InviteRevocation1796000004000 implements MigrationInterface {
  name = 'InviteRevocation1796000004000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "invites" ADD "revoked_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(
      `CREATE TABLE "workspace_removals" ("workspace_id" uuid NOT NULL, "user_id" uuid NOT NULL, "removed_by" uuid NOT NULL, "removed_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_workspace_removals" PRIMARY KEY ("workspace_id", "user_id"))`,
    );
    await queryRunner.query(
      `ALTER TABLE "workspace_removals" ADD CONSTRAINT "fk_workspace_removals_workspace" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workspace_removals" DROP CONSTRAINT "fk_workspace_removals_workspace"`);
    await queryRunner.query(`DROP TABLE "workspace_removals"`);
    await queryRunner.query(`ALTER TABLE "invites" DROP COLUMN "revoked_at"`);
  }
}
