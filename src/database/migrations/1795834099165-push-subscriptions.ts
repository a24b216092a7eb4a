import { MigrationInterface, QueryRunner } from 'typeorm';

export class PushSubscriptions1795834099165 implements MigrationInterface {
  name = 'PushSubscriptions1795834099165';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "push_subscriptions" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "user_id" uuid NOT NULL, "endpoint" text NOT NULL, "p256dh" character varying(128) NOT NULL, "auth" character varying(64) NOT NULL, "expiration_time" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_757fc8f00c34f66832668dc2e53" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_push_subscriptions_user" ON "push_subscriptions"  ("user_id") `);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_push_subscriptions_endpoint" ON "push_subscriptions"  ("endpoint") `,
    );
    await queryRunner.query(
      `ALTER TABLE "push_subscriptions" ADD CONSTRAINT "fk_push_subscriptions_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "push_subscriptions" DROP CONSTRAINT "fk_push_subscriptions_user"`);
    await queryRunner.query(`DROP INDEX "public"."uq_push_subscriptions_endpoint"`);
    await queryRunner.query(`DROP INDEX "public"."ix_push_subscriptions_user"`);
    await queryRunner.query(`DROP TABLE "push_subscriptions"`);
  }
}
