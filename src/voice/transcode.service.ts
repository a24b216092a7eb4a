import { Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfigService } from '../config/app-config.service';
import { MetricsService } from '../metrics/metrics.service';
import { BlobStorage } from '../storage/blob-storage';
import { SniffedAudio, sniffAudio } from './audio-sniff';
import { lastLine, runFfmpeg } from './ffmpeg-run';
import { applyOpusHeadGain, EBUR128_MEASURE, normalisingGainDb, parseEbur128Summary } from './loudness';
import { VoiceClipChange, VoiceClipRepository, VoiceClipRow } from './voice-clip.repository';
import { VoiceClips } from './voice-clips.service';
import { RENDITION_TYPES, voiceFileKeys } from './voice-files';

const WAVEFORM_POINTS = 64;
const PCM_RATE = 8000;
const FFMPEG_TIMEOUT_MS = 5 * 60_000;

/** Input ffmpeg cannot decode: retrying will not help. */
class CorruptAudio extends Error {}

/** 64 peaks of mono s16le PCM, scaled so the loudest is 100 (a quiet recording still shows its shape). */
export function waveform(pcm: Buffer, points = WAVEFORM_POINTS): number[] {
  const samples = Math.floor(pcm.length / 2);
  const peaks = new Array<number>(points).fill(0);
  for (let bucket = 0; bucket < points; bucket++) {
    const from = Math.floor((bucket * samples) / points);
    const to = Math.max(from + 1, Math.floor(((bucket + 1) * samples) / points));
    let peak = 0;
    for (let i = from; i < to && i < samples; i++) peak = Math.max(peak, Math.abs(pcm.readInt16LE(i * 2)));
    peaks[bucket] = peak;
  }
  const loudest = Math.max(...peaks);
  return peaks.map((p) => (loudest === 0 ? 0 : Math.round((p / loudest) * 100)));
}

/**
 * Worker side of recorded voice: one ffmpeg run decodes the original once and writes the Opus/Ogg
 * rendition (mono 48 kHz, ~32 kb/s) while measuring its loudness, plus 8 kHz PCM on stdout, from
 * which the duration (sample count) and the waveform are measured; the measured gain goes into the
 * Opus header (loudness.ts), so the clip is `ready` after one pass. The AAC rendition, which only
 * players without Opus ask for, is made from the Opus one on its first request (AacRenditions).
 */
@Injectable()
export class TranscodeService {
  private readonly logger = new Logger(TranscodeService.name);

  constructor(
    private readonly repository: VoiceClipRepository,
    private readonly clips: VoiceClips,
    private readonly storage: BlobStorage,
    private readonly config: AppConfigService,
    private readonly metrics: MetricsService,
  ) {}

  /** Ends a voice whose job will not run again; a clip already ready or failed is left as it is. */
  async giveUp(voiceId: string, reason: string): Promise<void> {
    const clip = await this.repository.find(voiceId);
    if (clip && clip.status !== 'ready' && clip.status !== 'failed') {
      await this.finish(clip, { status: 'failed', failure_reason: reason });
    }
  }

  async transcode(voiceId: string): Promise<void> {
    // A message deleted before its job ran is not processed: its files are being removed.
    const clip = await this.repository.findLive(voiceId);
    // Idempotent by job id: a finished clip (ready or failed) is never processed again.
    if (!clip || clip.status === 'ready' || clip.status === 'failed' || !clip.original_key) return;
    const work = await mkdtemp(join(tmpdir(), 'pigeon-voice-'));
    try {
      // The container is judged again from the stored bytes (never from a client's word or the DB).
      const format = sniffAudio(await this.storage.readHead(clip.original_key, 64 * 1024));
      if (!format) {
        await this.finish(clip, { status: 'failed', failure_reason: 'not a supported audio container' });
        throw new UnrecoverableError('not a supported audio container');
      }
      const opusPath = join(work, 'voice.ogg');
      let pcm: Buffer;
      const ffmpegStarted = performance.now();
      try {
        pcm = await this.decode(clip.original_key, format, opusPath);
      } catch (error) {
        if (error instanceof CorruptAudio) {
          await this.finish(clip, { status: 'failed', failure_reason: error.message });
          throw new UnrecoverableError(error.message);
        }
        throw error;
      }
      const durationMs = Math.round((pcm.length / 2 / PCM_RATE) * 1000);
      this.metrics.transcoded('opus', (performance.now() - ffmpegStarted) / 1000, durationMs / 1000);
      if (durationMs === 0) {
        await this.finish(clip, { status: 'failed', failure_reason: 'no audio in the file' });
        throw new UnrecoverableError('no audio in the file');
      }
      const maxSeconds = this.config.get('VOICE_MAX_SECONDS');
      if (durationMs > maxSeconds * 1000) {
        const reason = `longer than ${maxSeconds} s`;
        await this.finish(clip, { status: 'failed', failure_reason: reason, duration_ms: durationMs });
        throw new UnrecoverableError(reason);
      }
      const keys = voiceFileKeys(clip.workspace_id, clip.id);
      await this.storage.putFile(keys.opus, opusPath, RENDITION_TYPES.opus);
      await this.finish(clip, {
        status: 'ready',
        opus_key: keys.opus,
        duration_ms: durationMs,
        waveform: waveform(pcm),
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /** Saves the outcome with its `message.updated` (VoiceClips.change: one transaction, through the channel log). */
  private async finish(
    clip: VoiceClipRow,
    change: Pick<VoiceClipChange, 'status' | 'opus_key' | 'aac_key' | 'duration_ms' | 'waveform' | 'failure_reason'>,
  ): Promise<void> {
    // A second run of the same job (stalled lock) finds the clip finished: no second event.
    const outcome = await this.clips.change(clip, change, 'unfinished', { skipDeleted: true });
    if (outcome === 'deleted') {
      // Deleted while it was being transcoded: no event, and the new renditions go.
      if (change.opus_key) await this.storage.remove(change.opus_key);
      return;
    }
    if (change.status === 'failed') this.logger.warn(`Voice ${clip.id} failed: ${change.failure_reason}`);
  }

  /**
   * Untrusted input is contained: the demuxer is fixed from the sniffed type (ffmpeg never probes, so
   * it never parses a playlist or concat script), the bytes come through a pipe and `pipe` is the only
   * protocol the input may open (no file, no network), and the decoded length is capped while it runs.
   */
  private async decode(key: string, format: SniffedAudio, opusPath: string): Promise<Buffer> {
    // One second of slack past the limit, so an over-long recording is measured as too long, not cut.
    const maxSeconds = this.config.get('VOICE_MAX_SECONDS') + 1;
    const maxPcmBytes = maxSeconds * PCM_RATE * 2;
    const args = [
      '-hide_banner',
      '-nostats',
      // `info` for the loudness summary; ebur128's per-frame lines are at `verbose`.
      '-v',
      'info',
      '-y',
      '-protocol_whitelist',
      'pipe',
      '-f',
      format.ffmpegFormat,
      '-t',
      String(maxSeconds),
      '-i',
      'pipe:0',
      '-filter_complex',
      `[0:a:0]aresample=48000,aformat=channel_layouts=mono,asplit=2[opus][measure];[measure]${EBUR128_MEASURE},anullsink`,
      '-map',
      '[opus]',
      '-c:a',
      'libopus',
      '-b:a',
      '32k',
      // Encoder effort 5 of 10: about a quarter less CPU per clip here, inaudible for speech at 32 kb/s.
      '-compression_level',
      '5',
      '-f',
      'ogg',
      opusPath,
      '-map',
      '0:a:0',
      '-ac',
      '1',
      '-ar',
      String(PCM_RATE),
      '-c:a',
      'pcm_s16le',
      '-f',
      's16le',
      'pipe:1',
    ];
    const outcome = await runFfmpeg(args, await this.storage.read(key), {
      timeoutMs: FFMPEG_TIMEOUT_MS,
      maxStdoutBytes: maxPcmBytes,
    });
    if (outcome.overflowed) throw new CorruptAudio(`longer than ${maxSeconds - 1} s`);
    if (outcome.code === 0) {
      const loudness = parseEbur128Summary(outcome.stderr);
      if (!loudness) throw new Error('ffmpeg gave no loudness summary');
      await applyOpusHeadGain(opusPath, normalisingGainDb(loudness));
      return outcome.stdout;
    }
    if (outcome.signal) throw new Error(`ffmpeg killed by ${outcome.signal}`);
    const line = lastLine(outcome.stderr);
    throw new CorruptAudio(`undecodable audio${line ? `: ${line.slice(0, 300)}` : ''}`);
  }
}
