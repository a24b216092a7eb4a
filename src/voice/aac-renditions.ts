import { Injectable, Logger } from '@nestjs/common';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppException } from '../common/app.exception';
import { MetricsService } from '../metrics/metrics.service';
import { BlobStorage } from '../storage/blob-storage';
import { lastLine, runFfmpeg } from './ffmpeg-run';
import { VoiceClipRepository, VoiceClipRow } from './voice-clip.repository';
import { RENDITION_TYPES, voiceFileKeys } from './voice-files';

/** ffmpeg runs for AAC renditions at once per API process; more requests wait their turn. */
const MAX_RUNNING = 2;
const FFMPEG_TIMEOUT_MS = 60_000;

/**
 * The AAC/M4A rendition, made on its first request from the clip's Opus rendition and kept: most
 * players take Opus, so the worker makes only that and a clip is `ready` sooner. The Opus file is
 * our own output (already loudness-normalised through its header gain, which the decoder applies),
 * yet it is read the same contained way as any upload: fixed demuxer, bytes through a pipe only.
 * Requests for the same clip on one node share one run; two nodes may both make it, writing the
 * same key (the storage's put is atomic), which costs CPU once more and nothing else.
 */
@Injectable()
export class AacRenditions {
  private readonly logger = new Logger(AacRenditions.name);
  private readonly making = new Map<string, Promise<string>>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly repository: VoiceClipRepository,
    private readonly storage: BlobStorage,
    private readonly metrics: MetricsService,
  ) {}

  /** The key of the clip's AAC rendition, made now if it has none yet. */
  ensure(clip: VoiceClipRow): Promise<string> {
    if (clip.aac_key) return Promise.resolve(clip.aac_key);
    let pending = this.making.get(clip.id);
    if (!pending) {
      pending = this.withSlot(() => this.make(clip)).finally(() => this.making.delete(clip.id));
      this.making.set(clip.id, pending);
    }
    return pending;
  }

  private async make(clip: VoiceClipRow): Promise<string> {
    if (!clip.opus_key) throw AppException.notFound('Audio');
    const key = voiceFileKeys(clip.workspace_id, clip.id).aac;
    const work = await mkdtemp(join(tmpdir(), 'pigeon-aac-'));
    try {
      const path = join(work, 'voice.m4a');
      const started = performance.now();
      const outcome = await runFfmpeg(
        [
          '-hide_banner',
          '-v',
          'error',
          '-y',
          '-protocol_whitelist',
          'pipe',
          '-f',
          'ogg',
          '-i',
          'pipe:0',
          '-map',
          '0:a:0',
          '-c:a',
          'aac',
          '-b:a',
          '64k',
          '-movflags',
          '+faststart',
          '-f',
          'mp4',
          path,
        ],
        await this.storage.read(clip.opus_key),
        { timeoutMs: FFMPEG_TIMEOUT_MS },
      );
      if (outcome.code !== 0) throw new Error(`AAC rendition of ${clip.id} failed: ${lastLine(outcome.stderr).slice(0, 300) || outcome.signal}`);
      this.metrics.transcoded('aac', (performance.now() - started) / 1000, (clip.duration_ms ?? 0) / 1000);
      await this.storage.putFile(key, path, RENDITION_TYPES.aac);
      if (!(await this.repository.attachAac(clip.id, key))) {
        // Deleted while it was made: its files are gone, this one goes too.
        await this.storage.remove(key);
        throw AppException.notFound('Audio');
      }
      return key;
    } finally {
      await rm(work, { recursive: true, force: true }).catch((error: unknown) => this.logger.warn(`Could not remove ${work}: ${String(error)}`));
    }
  }

  private async withSlot<T>(work: () => Promise<T>): Promise<T> {
    // A finished run hands its slot straight to the next waiter, so no newcomer can squeeze in between.
    if (this.running >= MAX_RUNNING) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
