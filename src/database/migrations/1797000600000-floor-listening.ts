import { MigrationInterface, QueryRunner } from 'typeorm';

/** Channel mode (chat | ptt), per-listener progress of voice messages, and the index unheard counts read. */
export class FloorListening1797000600000 implements MigrationInterface {
  name = 'FloorListening1797000600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "channels" ADD "mode" character varying(8) NOT NULL DEFAULT 'chat'`);
    await queryRunner.query(`ALTER TABLE "channels" ADD CONSTRAINT "ck_channels_mode" CHECK (mode IN ('chat','ptt'))`);
    await queryRunner.query(
      `CREATE TABLE "listening_progress" ("message_id" uuid NOT NULL, "user_id" uuid NOT NULL, "position_ms" integer NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_listening_progress" PRIMARY KEY ("message_id", "user_id"))`,
    );
    await queryRunner.query(
      `ALTER TABLE "listening_progress" ADD CONSTRAINT "fk_listening_progress_message" FOREIGN KEY ("message_id") REFERENCES "messages"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "listening_progress" ADD CONSTRAINT "fk_listening_progress_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    // Unheard counts and `?unheard=true` scan a channel's live voice messages only.
    await queryRunner.query(
      `CREATE INDEX "ix_messages_channel_voice" ON "messages" ("channel_id", "seq") WHERE kind = 'voice' AND deleted_at IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."ix_messages_channel_voice"`);
    await queryRunner.query(`ALTER TABLE "listening_progress" DROP CONSTRAINT "fk_listening_progress_user"`);
    await queryRunner.query(`ALTER TABLE "listening_progress" DROP CONSTRAINT "fk_listening_progress_message"`);
    await queryRunner.query(`DROP TABLE "listening_progress"`);
    await queryRunner.query(`ALTER TABLE "channels" DROP CONSTRAINT "ck_channels_mode"`);
    await queryRunner.query(`ALTER TABLE "channels" DROP COLUMN "mode"`);
  }
}
