import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHmac, hkdfSync, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DataSource, EntityManager } from 'typeorm';
import { AccessService } from '../access/access.service';
import { AppException } from '../common/app.exception';
import { ErrorCode } from '../common/error-code';
import { AppConfigService } from '../config/app-config.service';
import { EventsCommittedHandler, OnEventsCommitted } from '../fanout/events-committed';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import type { EventEnvelope, MessageView, VoiceView } from '../messages/message.view';
import { VoiceViewProvider, VoiceViewSource } from '../messages/message-views';
import { MessagesService } from '../messages/messages.service';
import { OutboxService } from '../outbox/outbox.service';
import { sniffAudio } from './audio-sniff';
import type { VoiceStatus } from './voice-clip.entity';
import { VoiceStorage } from './voice-storage';

export interface VoiceRow {
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
}

export interface AudioSource {
  contentType: string;
  size: number;
  read(range?: { start: number; end: number }): Readable;
}

/** A recording still in progress: its bytes are followed live (LiveVoiceService.follow) until it ends. */
export interface LiveAudioSource {
  live: true;
  voiceId: string;
  contentType: string;
}

const RENDITION_TYPES = { opus: 'audio/ogg; codecs=opus', aac: 'audio/mp4' } as const;

/** Recorded voice messages: upload, the `voice` object of message views, and audio access. */
@Injectable()
@VoiceViewProvider()
@EventsCommittedHandler()
export class VoiceService implements VoiceViewSource, OnEventsCommitted {
  private readonly logger = new Logger(VoiceService.name);
  private audioUrlKey: Buffer | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly access: AccessService,
    private readonly messages: MessagesService,
    private readonly storage: VoiceStorage,
    private readonly config: AppConfigService,
    private readonly rateLimit: RateLimitService,
    private readonly outbox: OutboxService,
  ) {}

  /** A deleted voice message's files are removed after its delete committed. */
  onEventsCommitted(events: readonly EventEnvelope[]): void {
    const deleted = events
      .filter((e) => e.type === 'message.deleted' && (e.data as { kind?: string }).kind === 'voice')
      .map((e) => (e.data as { id: string }).id);
    if (deleted.length > 0) {
      this.purgeFiles(deleted).catch((error: unknown) => this.logger.warn(`Voice file removal failed: ${String(error)}`));
    }
  }

  /** A deleted voice message's audio files go too (the endpoint already answers 404 for it). */
  private async purgeFiles(messageIds: string[]): Promise<void> {
    const rows: Pick<VoiceRow, 'id' | 'original_key' | 'opus_key' | 'aac_key'>[] = await this.dataSource.query(
      'SELECT id, original_key, opus_key, aac_key FROM voice_clips WHERE message_id = ANY($1::uuid[])',
      [messageIds],
    );
    if (rows.length === 0) return;
    await this.dataSource.query(
      'UPDATE voice_clips SET original_key = NULL, opus_key = NULL, aac_key = NULL, updated_at = now() WHERE id = ANY($1::uuid[])',
      [rows.map((r) => r.id)],
    );
    for (const row of rows) {
      for (const key of [row.original_key, row.opus_key, row.aac_key]) if (key) await this.storage.remove(key);
    }
  }

  async upload(
    userId: string,
    workspaceId: string,
    channelId: string,
    input: { clientMsgId: string; topicId?: string },
    file: { buffer: Buffer; size: number } | undefined,
  ): Promise<MessageView> {
    await this.access.requireChannelMember(channelId, userId, workspaceId);
    await this.rateLimit.consumeWrite(userId);
    if (!file || file.size === 0)
      throw AppException.validation('file is required', [{ field: 'file', message: 'file is required' }]);
    const mimeType = sniffAudio(file.buffer)?.mimeType;
    if (!mimeType) {
      const message = 'file must be WebM, Ogg, MP4/M4A, WAV or MP3 audio';
      throw new AppException(ErrorCode.VALIDATION, message, [{ field: 'file', message }], undefined, 415);
    }
    const voiceId = randomUUID();
    const originalKey = `${workspaceId}/${voiceId}/original`;
    await this.storage.put(originalKey, file.buffer);
    // The clip row is written in the message's own transaction, so message.created already carries it.
    const { message, created } = await this.messages
      .send(
        userId,
        {
          channelId,
          clientMsgId: input.clientMsgId,
          body: '',
          kind: 'voice',
          topicId: input.topicId ?? null,
          onCreated: async (manager, row) => {
            await manager.query(
              `INSERT INTO voice_clips (id, message_id, workspace_id, channel_id, status, mime_type, original_key, size_bytes)
               VALUES ($1, $2, $3, $4, 'processing', $5, $6, $7)`,
              [voiceId, row.id, workspaceId, channelId, mimeType, originalKey, file.size],
            );
            // The transcode job is an outbox intent of the same transaction: queued after commit, never lost.
            await this.outbox.recordVoiceJob(manager, { workspaceId, voiceId });
          },
        },
        workspaceId,
      )
      .catch(async (error: unknown) => {
        await this.storage.remove(originalKey);
        throw error;
      });
    if (!created) {
      // A retried upload: the first one's copy is the one that counts.
      await this.storage.remove(originalKey);
      if (message.kind !== 'voice') throw AppException.conflict('clientMsgId was already used for another message');
      // Still processing: its job may have been lost, so the retry checks it (a live job is left alone).
      if (message.voice?.status === 'processing') await this.outbox.requeueVoice({ workspaceId, voiceId: message.voice.id });
      return message;
    }
    return message;
  }

  async get(
    userId: string,
    voiceId: string,
  ): Promise<VoiceView & { messageId: string; channelId: string; failureReason: string | null }> {
    const row = await this.visibleRow(userId, voiceId);
    return {
      ...this.toView(row, userId),
      messageId: row.message_id,
      channelId: row.channel_id,
      failureReason: row.failure_reason,
    };
  }

  /**
   * The audio to stream: the rendition when ready, else the original bytes, or the live recording while it
   * is still `recording`. Auth: a user id, or a valid signed URL.
   */
  async audio(
    voiceId: string,
    format: 'opus' | 'aac' | undefined,
    caller: { userId: string } | { u?: string; expires?: string; sig?: string },
  ): Promise<AudioSource | LiveAudioSource> {
    let userId: string;
    if ('userId' in caller) {
      userId = caller.userId;
    } else {
      if (!caller.u || !this.validSignature(voiceId, caller.u, caller.expires, caller.sig))
        throw AppException.unauthorized('Invalid or expired audio URL');
      userId = caller.u;
    }
    // A signed URL is only as good as its member's access now: removed members and deleted messages get 404.
    const row = await this.visibleRow(userId, voiceId);
    if (row.status === 'recording') return { live: true, voiceId, contentType: row.mime_type ?? 'application/octet-stream' };
    const wanted = format ?? 'opus';
    const renditionKey = row.status === 'ready' ? (wanted === 'opus' ? row.opus_key : row.aac_key) : null;
    const key = renditionKey ?? row.original_key;
    if (!key) throw AppException.notFound('Audio');
    const contentType = renditionKey ? RENDITION_TYPES[wanted] : (row.mime_type ?? 'application/octet-stream');
    const size = await this.storage.size(key);
    return { contentType, size, read: (range) => this.storage.read(key, range) };
  }

  async voiceFor(messageIds: string[], manager: EntityManager = this.dataSource.manager): Promise<Map<string, VoiceView>> {
    const rows: VoiceRow[] = await manager.query(
      'SELECT * FROM voice_clips WHERE message_id = ANY($1::uuid[])',
      [messageIds],
    );
    return new Map(rows.map((row) => [row.message_id, this.toView(row)]));
  }

  /**
   * `url` is signed for one member when the caller is known (GET /api/voice/:id). Message views are
   * shared by the whole channel and stored in the event log, so there it is the plain path, which
   * needs the bearer token (or a signed URL from GET /api/voice/:id).
   */
  private toView(row: VoiceRow, forUserId?: string): VoiceView {
    const path = `/api/voice/${row.id}/audio`;
    return {
      id: row.id,
      status: row.status,
      mimeType: row.mime_type,
      durationMs: row.duration_ms,
      waveform: row.waveform,
      url: row.status === 'failed' ? null : forUserId ? this.signedUrl(row.id, forUserId) : path,
      transcript: row.transcript ?? null,
    };
  }

  private signedUrl(voiceId: string, userId: string): string {
    const expires = Math.floor(Date.now() / 1000) + this.config.get('AUDIO_URL_TTL_SECONDS');
    return `/api/voice/${voiceId}/audio?u=${userId}&expires=${expires}&sig=${this.sign(voiceId, userId, expires)}`;
  }

  private sign(voiceId: string, userId: string, expires: number): string {
    return createHmac('sha256', this.urlKey()).update(`voice-audio:${voiceId}:${userId}:${expires}`).digest('hex');
  }

  /** A key of its own: AUDIO_URL_SECRET, else one derived from JWT_SECRET, so a URL never exposes the token key. */
  private urlKey(): Buffer {
    if (!this.audioUrlKey) {
      const secret = this.config.get('AUDIO_URL_SECRET');
      this.audioUrlKey = secret
        ? Buffer.from(secret)
        : Buffer.from(hkdfSync('sha256', this.config.get('JWT_SECRET'), 'pigeon', 'voice-audio-url', 32));
    }
    return this.audioUrlKey;
  }

  private validSignature(voiceId: string, userId: string, expires: string | undefined, sig: string | undefined): boolean {
    if (!expires || !sig || !/^\d{1,12}$/.test(expires) || Number(expires) < Date.now() / 1000) return false;
    if (!/^[0-9a-f-]{36}$/i.test(userId) || !/^[0-9a-f]{64}$/i.test(sig)) return false;
    const expected = Buffer.from(this.sign(voiceId, userId, Number(expires)), 'hex');
    const given = Buffer.from(sig, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** The clip of a message that is not deleted; a deleted voice message is gone, audio included. */
  private async row(voiceId: string): Promise<VoiceRow> {
    const rows: VoiceRow[] = await this.dataSource.query(
      `SELECT v.* FROM voice_clips v JOIN messages m ON m.id = v.message_id WHERE v.id = $1 AND m.deleted_at IS NULL`,
      [voiceId],
    );
    if (rows.length === 0) throw AppException.notFound('Voice message');
    return rows[0];
  }

  /** Channel members only; anyone else gets NOT_FOUND, as if it did not exist. */
  private async visibleRow(userId: string, voiceId: string): Promise<VoiceRow> {
    const row = await this.row(voiceId);
    await this.access.requireChannelMember(row.channel_id, userId).catch(() => {
      throw AppException.notFound('Voice message');
    });
    return row;
  }
}
