import { MigrationInterface, QueryRunner } from 'typeorm';

export class LiveVoice1795834159320 implements MigrationInterface {
  name = 'LiveVoice1795834159320';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "voice_listens" ("message_id" uuid NOT NULL, "user_id" uuid NOT NULL, "listened_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_deb0be79c6cd24df0f4113121bf" PRIMARY KEY ("message_id", "user_id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_voice_clips_recording" ON "voice_clips"  ("created_at") WHERE status = 'recording'`,
    );
    await queryRunner.query(
      `ALTER TABLE "voice_listens" ADD CONSTRAINT "fk_voice_listens_message" FOREIGN KEY ("message_id") REFERENCES "messages"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "voice_listens" ADD CONSTRAINT "fk_voice_listens_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "voice_listens" DROP CONSTRAINT "fk_voice_listens_user"`);
    await queryRunner.query(`ALTER TABLE "voice_listens" DROP CONSTRAINT "fk_voice_listens_message"`);
    await queryRunner.query(`DROP INDEX "public"."ix_voice_clips_recording"`);
    await queryRunner.query(`DROP TABLE "voice_listens"`);
  }
}
