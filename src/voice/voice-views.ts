import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { VoiceView } from '../messages/message.view';
import { AudioUrlSigner } from './audio-url.signer';
import { VoiceClipRepository, VoiceClipRow } from './voice-clip.repository';

/** The `voice` object of message views. */
@Injectable()
export class VoiceViews {
  constructor(
    private readonly repository: VoiceClipRepository,
    private readonly signer: AudioUrlSigner,
  ) {}

  /** For MessagesService's views: reads through `manager` when given (a view built inside a transaction). */
  async voiceFor(messageIds: string[], manager?: EntityManager): Promise<Map<string, VoiceView>> {
    const rows = await this.repository.findByMessageIds(messageIds, manager);
    return new Map(rows.map((row) => [row.message_id, this.toView(row)]));
  }

  /**
   * `url` is signed for one member when the caller is known (GET /api/voice/:id). Message views are
   * shared by the whole channel and stored in the event log, so there it is the plain path, which
   * needs the bearer token (or a signed URL from GET /api/voice/:id).
   */
  toView(row: VoiceClipRow, forUserId?: string): VoiceView {
    const path = `/api/voice/${row.id}/audio`;
    return {
      id: row.id,
      status: row.status,
      mimeType: row.mime_type,
      durationMs: row.duration_ms,
      waveform: row.waveform,
      url: row.status === 'failed' ? null : forUserId ? this.signer.signedUrl(row.id, forUserId) : path,
      transcript: row.transcript ?? null,
    };
  }
}
