import { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1764300000000 implements MigrationInterface {
  name = 'Initial1764300000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS "uuid-ossp"`);
    await queryRunner.query(
      `CREATE TABLE "refresh_token_families" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "user_id" uuid NOT NULL, "revoked_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_6912327ad39338e9032e1c76049" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_refresh_families_user" ON "refresh_token_families"  ("user_id") `);
    await queryRunner.query(
      `CREATE TABLE "refresh_tokens" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "family_id" uuid NOT NULL, "user_id" uuid NOT NULL, "token_hash" character(64) NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "spent_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_7d8bee0204106019488c4c50ffa" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_refresh_tokens_family" ON "refresh_tokens"  ("family_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_refresh_tokens_hash" ON "refresh_tokens"  ("token_hash") `);
    await queryRunner.query(
      `CREATE TABLE "channel_members" ("channel_id" uuid NOT NULL, "user_id" uuid NOT NULL, "workspace_id" uuid NOT NULL, "last_read_seq" bigint NOT NULL DEFAULT '0', "notify_level" character varying(16), "joined_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_f25be699d4039301684128a7a8b" PRIMARY KEY ("channel_id", "user_id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_channel_members_user" ON "channel_members"  ("user_id", "workspace_id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "channels" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "workspace_id" uuid NOT NULL, "name" character varying(80), "kind" character varying(16) NOT NULL, "head_seq" bigint NOT NULL DEFAULT '0', "dm_key" text, "created_by" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "ck_channels_kind" CHECK (kind IN ('public','private','direct')), CONSTRAINT "PK_bc603823f3f741359c2339389f9" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_channels_workspace_dm_key" ON "channels"  ("workspace_id", "dm_key") WHERE dm_key IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_channels_workspace_name" ON "channels"  ("workspace_id", "name") WHERE name IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE TABLE "topics" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "workspace_id" uuid NOT NULL, "channel_id" uuid NOT NULL, "title" character varying(200) NOT NULL, "created_by" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_activity_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_e4aa99a3fa60ec3a37d1fc4e853" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_topics_channel_activity" ON "topics"  ("channel_id", "last_activity_at") `,
    );
    await queryRunner.query(
      `CREATE TABLE "channel_events" ("channel_id" uuid NOT NULL, "seq" bigint NOT NULL, "workspace_id" uuid NOT NULL, "type" character varying(32) NOT NULL, "data" jsonb NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_4eaa8a6b42e3b2b8009e4267b1e" PRIMARY KEY ("channel_id", "seq"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "messages" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "workspace_id" uuid NOT NULL, "channel_id" uuid NOT NULL, "topic_id" uuid, "seq" bigint NOT NULL, "author_id" uuid NOT NULL, "client_msg_id" character varying(64) NOT NULL, "kind" character varying(16) NOT NULL, "body" text NOT NULL, "reply_to_id" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "edited_at" TIMESTAMP WITH TIME ZONE, "deleted_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_18325f38ae6de43878487eff986" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_messages_topic_seq" ON "messages"  ("topic_id", "seq") WHERE topic_id IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_messages_author_channel_client_msg" ON "messages"  ("author_id", "channel_id", "client_msg_id") `,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_messages_channel_seq" ON "messages"  ("channel_id", "seq") `);
    await queryRunner.query(
      `CREATE TABLE "reactions" ("message_id" uuid NOT NULL, "emoji" character varying(64) NOT NULL, "user_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_d19564cf772d6b6f7a3bbfd7a21" PRIMARY KEY ("message_id", "emoji", "user_id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "users" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "email" character varying(320) NOT NULL, "password_hash" character varying(255) NOT NULL, "display_name" character varying(64) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_users_email" ON "users"  ("email") `);
    await queryRunner.query(
      `CREATE TABLE "invites" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "workspace_id" uuid NOT NULL, "code" character varying(64) NOT NULL, "role" character varying(16) NOT NULL, "max_uses" integer, "uses" integer NOT NULL DEFAULT '0', "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "created_by" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_aa52e96b44a714372f4dd31a0af" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_invites_workspace" ON "invites"  ("workspace_id") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_invites_code" ON "invites"  ("code") `);
    await queryRunner.query(
      `CREATE TABLE "workspace_members" ("workspace_id" uuid NOT NULL, "user_id" uuid NOT NULL, "role" character varying(16) NOT NULL, "joined_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "ck_workspace_members_role" CHECK (role IN ('owner','admin','member','guest')), CONSTRAINT "PK_4896b609c71ca5ad20ad662077b" PRIMARY KEY ("workspace_id", "user_id"))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_workspace_members_user" ON "workspace_members"  ("user_id") `);
    await queryRunner.query(
      `CREATE TABLE "workspaces" ("id" uuid NOT NULL DEFAULT uuid_generate_v4(), "name" character varying(100) NOT NULL, "slug" character varying(40) NOT NULL, "created_by" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_098656ae401f3e1a4586f47fd8e" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_workspaces_slug" ON "workspaces"  ("slug") `);
    await queryRunner.query(
      `ALTER TABLE "refresh_token_families" ADD CONSTRAINT "fk_refresh_families_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "refresh_tokens" ADD CONSTRAINT "fk_refresh_tokens_family" FOREIGN KEY ("family_id") REFERENCES "refresh_token_families"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "channel_members" ADD CONSTRAINT "fk_channel_members_channel" FOREIGN KEY ("channel_id") REFERENCES "channels"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "channel_members" ADD CONSTRAINT "fk_channel_members_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "channels" ADD CONSTRAINT "fk_channels_workspace" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "topics" ADD CONSTRAINT "fk_topics_channel" FOREIGN KEY ("channel_id") REFERENCES "channels"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "channel_events" ADD CONSTRAINT "fk_channel_events_channel" FOREIGN KEY ("channel_id") REFERENCES "channels"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "messages" ADD CONSTRAINT "fk_messages_channel" FOREIGN KEY ("channel_id") REFERENCES "channels"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "reactions" ADD CONSTRAINT "fk_reactions_message" FOREIGN KEY ("message_id") REFERENCES "messages"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "invites" ADD CONSTRAINT "fk_invites_workspace" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "workspace_members" ADD CONSTRAINT "fk_workspace_members_workspace" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "workspace_members" ADD CONSTRAINT "fk_workspace_members_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "workspace_members" DROP CONSTRAINT "fk_workspace_members_user"`);
    await queryRunner.query(`ALTER TABLE "workspace_members" DROP CONSTRAINT "fk_workspace_members_workspace"`);
    await queryRunner.query(`ALTER TABLE "invites" DROP CONSTRAINT "fk_invites_workspace"`);
    await queryRunner.query(`ALTER TABLE "reactions" DROP CONSTRAINT "fk_reactions_message"`);
    await queryRunner.query(`ALTER TABLE "messages" DROP CONSTRAINT "fk_messages_channel"`);
    await queryRunner.query(`ALTER TABLE "channel_events" DROP CONSTRAINT "fk_channel_events_channel"`);
    await queryRunner.query(`ALTER TABLE "topics" DROP CONSTRAINT "fk_topics_channel"`);
    await queryRunner.query(`ALTER TABLE "channels" DROP CONSTRAINT "fk_channels_workspace"`);
    await queryRunner.query(`ALTER TABLE "channel_members" DROP CONSTRAINT "fk_channel_members_user"`);
    await queryRunner.query(`ALTER TABLE "channel_members" DROP CONSTRAINT "fk_channel_members_channel"`);
    await queryRunner.query(`ALTER TABLE "refresh_tokens" DROP CONSTRAINT "fk_refresh_tokens_family"`);
    await queryRunner.query(`ALTER TABLE "refresh_token_families" DROP CONSTRAINT "fk_refresh_families_user"`);
    await queryRunner.query(`DROP INDEX "public"."uq_workspaces_slug"`);
    await queryRunner.query(`DROP TABLE "workspaces"`);
    await queryRunner.query(`DROP INDEX "public"."ix_workspace_members_user"`);
    await queryRunner.query(`DROP TABLE "workspace_members"`);
    await queryRunner.query(`DROP INDEX "public"."uq_invites_code"`);
    await queryRunner.query(`DROP INDEX "public"."ix_invites_workspace"`);
    await queryRunner.query(`DROP TABLE "invites"`);
    await queryRunner.query(`DROP INDEX "public"."uq_users_email"`);
    await queryRunner.query(`DROP TABLE "users"`);
    await queryRunner.query(`DROP TABLE "reactions"`);
    await queryRunner.query(`DROP INDEX "public"."uq_messages_channel_seq"`);
    await queryRunner.query(`DROP INDEX "public"."uq_messages_author_channel_client_msg"`);
    await queryRunner.query(`DROP INDEX "public"."ix_messages_topic_seq"`);
    await queryRunner.query(`DROP TABLE "messages"`);
    await queryRunner.query(`DROP TABLE "channel_events"`);
    await queryRunner.query(`DROP INDEX "public"."ix_topics_channel_activity"`);
    await queryRunner.query(`DROP TABLE "topics"`);
    await queryRunner.query(`DROP INDEX "public"."uq_channels_workspace_name"`);
    await queryRunner.query(`DROP INDEX "public"."uq_channels_workspace_dm_key"`);
    await queryRunner.query(`DROP TABLE "channels"`);
    await queryRunner.query(`DROP INDEX "public"."ix_channel_members_user"`);
    await queryRunner.query(`DROP TABLE "channel_members"`);
    await queryRunner.query(`DROP INDEX "public"."uq_refresh_tokens_hash"`);
    await queryRunner.query(`DROP INDEX "public"."ix_refresh_tokens_family"`);
    await queryRunner.query(`DROP TABLE "refresh_tokens"`);
    await queryRunner.query(`DROP INDEX "public"."ix_refresh_families_user"`);
    await queryRunner.query(`DROP TABLE "refresh_token_families"`);
  }
}
