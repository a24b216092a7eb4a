import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Full-text search: a stored tsvector per message, computed by triggers with the workspace's text
 * search configuration, so every write path (send, edit, delete, voice transcript) keeps it right
 * without touching the code that writes messages.
 */
export class Search1796000008000 implements MigrationInterface {
  name = 'Search1796000008000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workspaces" ADD "search_config" character varying(63) NOT NULL DEFAULT 'simple'`);
    await queryRunner.query(`ALTER TABLE "voice_clips" ADD "transcript" text`);
    await queryRunner.query(`ALTER TABLE "messages" ADD "search_vector" tsvector`);
    // Body (weight A) and transcript (weight B); deleted messages get no vector at all.
    await queryRunner.query(`
CREATE FUNCTION pigeon_message_search_vector(message_body text, transcript text, workspace uuid, deleted timestamptz)
RETURNS tsvector LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN deleted IS NOT NULL THEN NULL ELSE
    setweight(to_tsvector(cfg, coalesce(message_body, '')), 'A') || setweight(to_tsvector(cfg, coalesce(transcript, '')), 'B')
  END
  FROM (SELECT coalesce((SELECT search_config::regconfig FROM workspaces WHERE id = workspace), 'simple'::regconfig) AS cfg) c
$$`);
    await queryRunner.query(`
CREATE FUNCTION pigeon_messages_search_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_vector := pigeon_message_search_vector(
    NEW.body,
    CASE WHEN NEW.kind = 'voice' THEN (SELECT transcript FROM voice_clips WHERE message_id = NEW.id) END,
    NEW.workspace_id, NEW.deleted_at);
  RETURN NEW;
END $$`);
    await queryRunner.query(`
CREATE TRIGGER messages_search_vector BEFORE INSERT OR UPDATE OF body, deleted_at ON "messages"
FOR EACH ROW EXECUTE FUNCTION pigeon_messages_search_trigger()`);
    // A transcript arriving later re-indexes its message (the UPDATE fires the trigger above).
    await queryRunner.query(`
CREATE FUNCTION pigeon_voice_transcript_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE messages SET search_vector = pigeon_message_search_vector(body, NEW.transcript, workspace_id, deleted_at)
   WHERE id = NEW.message_id;
  RETURN NULL;
END $$`);
    await queryRunner.query(`
CREATE TRIGGER voice_clips_transcript AFTER INSERT OR UPDATE OF transcript ON "voice_clips"
FOR EACH ROW WHEN (NEW.transcript IS NOT NULL) EXECUTE FUNCTION pigeon_voice_transcript_trigger()`);
    // A changed configuration re-indexes the workspace's messages with it.
    await queryRunner.query(`
CREATE FUNCTION pigeon_workspace_search_config_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE messages m SET search_vector = pigeon_message_search_vector(m.body,
      (SELECT v.transcript FROM voice_clips v WHERE v.message_id = m.id), m.workspace_id, m.deleted_at)
   WHERE m.workspace_id = NEW.id;
  RETURN NULL;
END $$`);
    await queryRunner.query(`
CREATE TRIGGER workspaces_search_config AFTER UPDATE OF search_config ON "workspaces"
FOR EACH ROW WHEN (OLD.search_config IS DISTINCT FROM NEW.search_config) EXECUTE FUNCTION pigeon_workspace_search_config_trigger()`);
    await queryRunner.query(
      `UPDATE messages m SET search_vector = pigeon_message_search_vector(m.body,
         (SELECT v.transcript FROM voice_clips v WHERE v.message_id = m.id), m.workspace_id, m.deleted_at)`,
    );
    await queryRunner.query(`CREATE INDEX "ix_messages_search" ON "messages" USING GIN ("search_vector")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."ix_messages_search"`);
    await queryRunner.query(`DROP TRIGGER workspaces_search_config ON "workspaces"`);
    await queryRunner.query(`DROP FUNCTION pigeon_workspace_search_config_trigger()`);
    await queryRunner.query(`DROP TRIGGER voice_clips_transcript ON "voice_clips"`);
    await queryRunner.query(`DROP FUNCTION pigeon_voice_transcript_trigger()`);
    await queryRunner.query(`DROP TRIGGER messages_search_vector ON "messages"`);
    await queryRunner.query(`DROP FUNCTION pigeon_messages_search_trigger()`);
    await queryRunner.query(`DROP FUNCTION pigeon_message_search_vector(text, text, uuid, timestamptz)`);
    await queryRunner.query(`ALTER TABLE "messages" DROP COLUMN "search_vector"`);
    await queryRunner.query(`ALTER TABLE "voice_clips" DROP COLUMN "transcript"`);
    await queryRunner.query(`ALTER TABLE "workspaces" DROP COLUMN "search_config"`);
  }
}
