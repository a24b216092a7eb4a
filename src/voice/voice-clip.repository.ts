import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { MessageRow } from '../messages/message.view';
import type { VoiceStatus } from './voice-clip.entity';

/** A `voice_clips` row as Postgres returns it (the one row type of that table). */
export interface VoiceClipRow {
  id: string;
  message_id: string;
  workspace_id: string;
  channel_id: string;
  status: VoiceStatus;
  mime_type: string | null;
  original_key: string | null;
  opus_key: string | null;
  aac_key: string | null;
  duration_ms: number | null;
  waveform: number[] | null;
  failure_reason: string | null;
  size_bytes: number | null;
  transcript: string | null;
  created_at: Date;
  updated_at: Date;
}

/** A clip with its message's author: the speaker of a live recording. */
export type SpokenClipRow = VoiceClipRow & Pick<MessageRow, 'author_id'>;

export type NewVoiceClip = Pick<
  VoiceClipRow,
  'id' | 'message_id' | 'workspace_id' | 'channel_id' | 'status' | 'mime_type' | 'original_key' | 'size_bytes'
>;

/** Columns a status change may set. */
export type VoiceClipChange = Partial<
  Pick<
    VoiceClipRow,
    | 'status'
    | 'mime_type'
    | 'size_bytes'
    | 'original_key'
    | 'opus_key'
    | 'aac_key'
    | 'duration_ms'
    | 'waveform'
    | 'failure_reason'
    | 'transcript'
  >
>;

/**
 * Which clips a change applies to, so a repeated or late change is a no-op:
 * - recording: only a live recording (its finalize)
 * - unfinished: not yet ready or failed (the transcode outcome)
 * - untranscribed: no transcript yet
 */
export type VoiceClipGuard = 'recording' | 'unfinished' | 'untranscribed';
const GUARDS: Record<VoiceClipGuard, string> = {
  recording: `status = 'recording'`,
  unfinished: `status NOT IN ('ready', 'failed')`,
  untranscribed: 'transcript IS NULL',
};
const CHANGE_COLUMNS = new Set<string>([
  'status',
  'mime_type',
  'size_bytes',
  'original_key',
  'opus_key',
  'aac_key',
  'duration_ms',
  'waveform',
  'failure_reason',
  'transcript',
]);

/** Every SQL statement of voice messages: `voice_clips`, `voice_listens`, and the voice side of `messages`. */
@Injectable()
export class VoiceClipRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Inside the message's own transaction, so `message.created` already carries the clip. */
  async insert(manager: EntityManager, clip: NewVoiceClip): Promise<void> {
    await manager.query(
      `INSERT INTO voice_clips (id, message_id, workspace_id, channel_id, status, mime_type, original_key, size_bytes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [clip.id, clip.message_id, clip.workspace_id, clip.channel_id, clip.status, clip.mime_type, clip.original_key, clip.size_bytes],
    );
  }

  async find(voiceId: string): Promise<VoiceClipRow | undefined> {
    const rows: VoiceClipRow[] = await this.dataSource.query('SELECT * FROM voice_clips WHERE id = $1', [voiceId]);
    return rows[0];
  }

  /** The clip of a message that is not deleted (a deleted voice message is gone, audio included). */
  async findLive(voiceId: string): Promise<VoiceClipRow | undefined> {
    const rows: VoiceClipRow[] = await this.dataSource.query(
      'SELECT v.* FROM voice_clips v JOIN messages m ON m.id = v.message_id WHERE v.id = $1 AND m.deleted_at IS NULL',
      [voiceId],
    );
    return rows[0];
  }

  async findWithSpeaker(voiceId: string): Promise<SpokenClipRow | undefined> {
    const rows: SpokenClipRow[] = await this.dataSource.query(
      'SELECT v.*, m.author_id FROM voice_clips v JOIN messages m ON m.id = v.message_id WHERE v.id = $1',
      [voiceId],
    );
    return rows[0];
  }

  async status(voiceId: string): Promise<VoiceStatus | undefined> {
    const rows: Pick<VoiceClipRow, 'status'>[] = await this.dataSource.query(
      'SELECT status FROM voice_clips WHERE id = $1',
      [voiceId],
    );
    return rows[0]?.status;
  }

  /** Reads through `manager` when given, so a view built inside a transaction sees its writes. */
  async findByMessageIds(messageIds: string[], manager: EntityManager = this.dataSource.manager): Promise<VoiceClipRow[]> {
    return manager.query('SELECT * FROM voice_clips WHERE message_id = ANY($1::uuid[])', [messageIds]);
  }

  /** The user's live recordings, except the one `clientMsgId` (a retried voice:start) names. */
  async countOpenRecordings(userId: string, exceptClientMsgId: string): Promise<number> {
    const [open]: { n: string }[] = await this.dataSource.query(
      `SELECT count(*) AS n FROM voice_clips v JOIN messages m ON m.id = v.message_id
        WHERE v.status = 'recording' AND m.author_id = $1 AND m.client_msg_id <> $2`,
      [userId, exceptClientMsgId],
    );
    return Number(open.n);
  }

  /** Recordings started more than `olderThanMs` ago, oldest first (the sweeper's candidates). */
  async staleRecordings(olderThanMs: number, limit: number): Promise<string[]> {
    const rows: Pick<VoiceClipRow, 'id'>[] = await this.dataSource.query(
      `SELECT id FROM voice_clips
        WHERE status = 'recording' AND created_at < now() - make_interval(secs => $1::double precision / 1000)
        ORDER BY created_at LIMIT $2`,
      [olderThanMs, limit],
    );
    return rows.map((r) => r.id);
  }

  /** Applies `change` where `guard` holds; true when a row changed. */
  async update(manager: EntityManager, voiceId: string, change: VoiceClipChange, guard: VoiceClipGuard): Promise<boolean> {
    const columns = Object.keys(change);
    for (const column of columns) if (!CHANGE_COLUMNS.has(column)) throw new Error(`Not a voice clip column: ${column}`);
    const updated: [unknown[], number] = await manager.query(
      `UPDATE voice_clips SET ${columns.map((c, i) => `${c} = $${i + 2}`).join(', ')}, updated_at = now()
        WHERE id = $1 AND ${GUARDS[guard]} RETURNING id`,
      [voiceId, ...Object.values(change)],
    );
    return updated[1] > 0;
  }

  /**
   * Records the AAC rendition made after the clip was ready; false when the clip lost its files
   * meanwhile (deleted). Not a state change: `updated_at` stays the time it became ready.
   */
  async attachAac(voiceId: string, key: string): Promise<boolean> {
    const updated: [unknown[], number] = await this.dataSource.query(
      `UPDATE voice_clips SET aac_key = $2 WHERE id = $1 AND status = 'ready' AND opus_key IS NOT NULL RETURNING id`,
      [voiceId, key],
    );
    return updated[1] > 0;
  }

  /** Forgets the file keys of these messages' clips and answers the keys that were set. */
  async detachFiles(messageIds: string[]): Promise<string[]> {
    const rows: Pick<VoiceClipRow, 'original_key' | 'opus_key' | 'aac_key'>[] = await this.dataSource.query(
      `WITH old AS (
         SELECT id, original_key, opus_key, aac_key FROM voice_clips WHERE message_id = ANY($1::uuid[]) FOR UPDATE
       ), cleared AS (
         UPDATE voice_clips v SET original_key = NULL, opus_key = NULL, aac_key = NULL, updated_at = now()
           FROM old WHERE v.id = old.id
       )
       SELECT original_key, opus_key, aac_key FROM old`,
      [messageIds],
    );
    return rows.flatMap((r) => [r.original_key, r.opus_key, r.aac_key]).filter((k): k is string => k !== null);
  }

  /** The message a listen receipt is about. */
  async message(messageId: string): Promise<Pick<MessageRow, 'channel_id' | 'kind' | 'deleted_at'> | undefined> {
    const rows: Pick<MessageRow, 'channel_id' | 'kind' | 'deleted_at'>[] = await this.dataSource.query(
      'SELECT channel_id, kind, deleted_at FROM messages WHERE id = $1',
      [messageId],
    );
    return rows[0];
  }

  /** True only for the first listen of this user. */
  async addListen(messageId: string, userId: string): Promise<boolean> {
    const inserted: unknown[] = await this.dataSource.query(
      'INSERT INTO voice_listens (message_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING message_id',
      [messageId, userId],
    );
    return inserted.length > 0;
  }
}
