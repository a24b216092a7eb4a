import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The transactional outbox: side effects of a committed change (webhook deliveries, pushes, voice
 * jobs) written in the change's own transaction and relayed to BullMQ by OutboxRelay. A row is
 * claimable when `available_at` has passed: a claim pushes it forward by the lease, a failure by the
 * backoff; a relayed row is deleted. No foreign keys: the insert sits on the hottest path.
 */
export class Outbox1797000200000 implements MigrationInterface {
  name = 'Outbox1797000200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "outbox" (
        "id" bigserial NOT NULL,
        "kind" varchar(32) NOT NULL,
        "workspace_id" uuid NOT NULL,
        "channel_id" uuid,
        "from_seq" bigint,
        "to_seq" bigint,
        "ref_id" uuid,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "available_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "attempts" integer NOT NULL DEFAULT 0,
        "last_error" text,
        CONSTRAINT "PK_outbox" PRIMARY KEY ("id"),
        CONSTRAINT "ck_outbox_kind" CHECK (
          ("kind" = 'channel.events' AND "channel_id" IS NOT NULL AND "from_seq" IS NOT NULL AND "to_seq" >= "from_seq")
          OR ("kind" = 'voice.transcode' AND "ref_id" IS NOT NULL))
      )`,
    );
    await queryRunner.query(`CREATE INDEX "ix_outbox_available" ON "outbox" ("available_at", "id")`);
    // The sweeper asks "is an intent for this voice already waiting?".
    await queryRunner.query(`CREATE INDEX "ix_outbox_ref" ON "outbox" ("ref_id") WHERE "ref_id" IS NOT NULL`);
    // Stuck-delivery sweep: pending deliveries by age, without scanning delivered ones.
    await queryRunner.query(
      `CREATE INDEX "ix_webhook_deliveries_pending" ON "webhook_deliveries" ("updated_at") WHERE "status" = 'pending'`,
    );
    // Stuck-voice sweep: clips still `processing`, by age.
    await queryRunner.query(`CREATE INDEX "ix_voice_clips_processing" ON "voice_clips" ("updated_at") WHERE "status" = 'processing'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_voice_clips_processing"`);
    await queryRunner.query(`DROP INDEX "ix_webhook_deliveries_pending"`);
    await queryRunner.query(`DROP TABLE "outbox"`);
  }
}
