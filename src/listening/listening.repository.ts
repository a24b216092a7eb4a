import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** What listening needs to know about a voice message: where it lives and who made it. */
export interface VoiceMessageFacts {
  messageId: string;
  voiceId: string;
  channelId: string;
  workspaceId: string;
  authorId: string;
  deleted: boolean;
  durationMs: number | null;
}

interface FactsRow {
  message_id: string;
  voice_id: string;
  channel_id: string;
  workspace_id: string;
  author_id: string;
  deleted_at: Date | null;
  duration_ms: number | null;
}

const FACTS_SQL = `SELECT m.id AS message_id, v.id AS voice_id, m.channel_id, m.workspace_id, m.author_id, m.deleted_at, v.duration_ms
  FROM messages m JOIN voice_clips v ON v.message_id = m.id`;

const toFacts = (row: FactsRow | undefined): VoiceMessageFacts | null =>
  row
    ? {
        messageId: row.message_id,
        voiceId: row.voice_id,
        channelId: row.channel_id,
        workspaceId: row.workspace_id,
        authorId: row.author_id,
        deleted: row.deleted_at !== null,
        durationMs: row.duration_ms,
      }
    : null;

/** listening_progress, voice_listens and the unheard queries. */
@Injectable()
export class ListeningRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async byMessage(messageId: string): Promise<VoiceMessageFacts | null> {
    const rows: FactsRow[] = await this.dataSource.query(`${FACTS_SQL} WHERE m.id = $1 AND m.kind = 'voice'`, [messageId]);
    return toFacts(rows[0]);
  }

  async byVoice(voiceId: string): Promise<VoiceMessageFacts | null> {
    const rows: FactsRow[] = await this.dataSource.query(`${FACTS_SQL} WHERE v.id = $1`, [voiceId]);
    return toFacts(rows[0]);
  }

  /** Stores the furthest position; answers what is stored now (never less than before). */
  async saveProgress(messageId: string, userId: string, positionMs: number): Promise<number> {
    const rows: { position_ms: number }[] = await this.dataSource.query(
      `INSERT INTO listening_progress (message_id, user_id, position_ms) VALUES ($1, $2, $3)
       ON CONFLICT (message_id, user_id) DO UPDATE
         SET position_ms = GREATEST(listening_progress.position_ms, EXCLUDED.position_ms),
             updated_at = CASE WHEN EXCLUDED.position_ms > listening_progress.position_ms THEN now() ELSE listening_progress.updated_at END
       RETURNING position_ms`,
      [messageId, userId, positionMs],
    );
    return rows[0].position_ms;
  }

  /** Everyone who played the message or finished it, latest first. */
  async listeners(messageId: string, durationMs: number | null): Promise<{ userId: string; positionMs: number; listenedAt: string | null }[]> {
    const rows: { user_id: string; position_ms: number; listened_at: Date | null }[] = await this.dataSource.query(
      `SELECT COALESCE(p.user_id, l.user_id) AS user_id,
              GREATEST(COALESCE(p.position_ms, 0), CASE WHEN l.user_id IS NULL THEN 0 ELSE $2::int END) AS position_ms,
              l.listened_at
         FROM (SELECT user_id, position_ms, updated_at FROM listening_progress WHERE message_id = $1) p
         FULL JOIN (SELECT user_id, listened_at FROM voice_listens WHERE message_id = $1) l ON l.user_id = p.user_id
        ORDER BY COALESCE(l.listened_at, p.updated_at) DESC, 1`,
      [messageId, durationMs ?? 0],
    );
    return rows.map((r) => ({ userId: r.user_id, positionMs: r.position_ms, listenedAt: r.listened_at?.toISOString() ?? null }));
  }
}
