import { Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { BlobStorage } from '../storage/blob-storage';
import { sniffAudio } from './audio-sniff';
import { LiveRecordings } from './live-recordings';
import { FINALIZE_LOCK_MS, RecordingStore } from './recording-store';
import { VoiceClipRepository } from './voice-clip.repository';
import { VoiceClips } from './voice-clips.service';

/**
 * The end of a live recording (voice:end, the speaker leaving, or the sweeper): the chunks become the
 * original file and the clip goes on like an upload (`processing`, the same transcode job).
 */
@Injectable()
export class RecordingFinalizer {
  private readonly logger = new Logger(RecordingFinalizer.name);

  constructor(
    private readonly store: RecordingStore,
    private readonly repository: VoiceClipRepository,
    private readonly clips: VoiceClips,
    private readonly storage: BlobStorage,
    private readonly recordings: LiveRecordings,
  ) {}

  /**
   * Ends a recording with its first `chunks` chunks (default: every contiguous one that arrived): the
   * concatenation becomes the original file, the clip turns `processing` with one message.updated, and
   * the transcode job is queued. Nothing received: `failed`. Idempotent; 'busy' if another process holds it.
   */
  async finalize(voiceId: string, chunks?: number): Promise<'done' | 'busy'> {
    const token = await this.store.lock(voiceId);
    if (!token) return 'busy';
    try {
      const clip = await this.repository.find(voiceId);
      if (!clip || clip.status !== 'recording') {
        await this.store.close(voiceId);
        return 'done';
      }
      // From here on chunks are refused (CONFLICT): the file is cut from what the stream holds now.
      await this.store.stopAccepting(voiceId);
      const parts = await this.store.chunks(voiceId, chunks);
      if (parts.length === 0) {
        await this.clips.change(clip, { status: 'failed', failure_reason: 'no audio received', original_key: null }, 'recording');
        this.logger.warn(`Voice ${voiceId} failed: no audio received`);
      } else {
        const original = Buffer.concat(parts);
        // Like an upload, voice.mimeType becomes the type sniffed from the bytes; ffmpeg judges the rest.
        const mimeType = sniffAudio(original)?.mimeType ?? clip.mime_type;
        await this.storage.put(clip.original_key!, original, mimeType ?? undefined);
        await this.clips.change(clip, { status: 'processing', mime_type: mimeType, size_bytes: original.length }, 'recording');
      }
      await this.store.close(voiceId);
      return 'done';
    } finally {
      this.recordings.forget(voiceId);
      await this.store.unlock(voiceId, token).catch(() => undefined);
    }
  }

  /** Finalizes, or when another process is at it, waits (bounded) for its outcome. */
  async finalizeOrWait(voiceId: string, chunks?: number): Promise<void> {
    if ((await this.finalize(voiceId, chunks)) === 'done') return;
    const deadline = Date.now() + FINALIZE_LOCK_MS;
    while (Date.now() < deadline) {
      if ((await this.repository.status(voiceId)) !== 'recording') return;
      await sleep(100);
    }
  }
}
