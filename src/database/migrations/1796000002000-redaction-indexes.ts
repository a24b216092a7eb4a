import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Finds every stored copy of one message, so an edit or a delete can redact it (event log and webhook
 * payloads) without scanning a channel's whole history. Expression indexes: declared on the entities
 * with `synchronize: false`, so TypeORM's schema diff leaves them alone.
 */
export class RedactionIndexes1796000002000 implements MigrationInterface {
  name = 'RedactionIndexes1796000002000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "ix_channel_events_message" ON "channel_events" ("channel_id", ((data->>'id'))) WHERE type LIKE 'message.%'`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_webhook_deliveries_message" ON "webhook_deliveries" ("workspace_id", ((payload->'data'->>'id')))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."ix_webhook_deliveries_message"`);
    await queryRunner.query(`DROP INDEX "public"."ix_channel_events_message"`);
  }
}
