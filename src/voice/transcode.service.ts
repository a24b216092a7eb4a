import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { UnrecoverableError } from 'bullmq';
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AppConfigService } from '../config/app-config.service';
import { MessagesService } from '../messages/messages.service';
import { MetricsService } from '../metrics/metrics.service';
import { SniffedAudio, sniffAudio } from './audio-sniff';
import { ffmpegBinary } from './ffmpeg-binary';
import type { VoiceRow } from './voice.service';
import { VoiceStorage } from './voice-storage';

const WAVEFORM_POINTS = 64;
const PCM_RATE = 8000;
const FFMPEG_TIMEOUT_MS = 5 * 60_000;
const LOUDNORM = 'loudnorm=I=-16:TP=-1.5:LRA=11';

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
 * (mono 48 kHz, ~32 kb/s, loudness-normalized) and AAC/M4A renditions plus 8 kHz PCM on stdout,
 * from which the duration (sample count) and the waveform are measured.
 */
@Injectable()
export class TranscodeService {
  private readonly logger = new Logger(TranscodeService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly messages: MessagesService,
    private readonly storage: VoiceStorage,
    private readonly config: AppConfigService,
    private readonly metrics: MetricsService,
  ) {}

  /** Ends a voice whose job will not run again; a clip already ready or failed is left as it is. */
  async giveUp(voiceId: string, reason: string): Promise<void> {
    const rows: VoiceRow[] = await this.dataSource.query('SELECT * FROM voice_clips WHERE id = $1', [voiceId]);
    if (rows[0] && rows[0].status !== 'ready' && rows[0].status !== 'failed') {
      await this.finish(rows[0], { status: 'failed', failure_reason: reason });
    }
  }

  async transcode(voiceId: string): Promise<void> {
    // A message deleted before its job ran is not processed: its files are being removed.
    const rows: VoiceRow[] = await this.dataSource.query(
      'SELECT v.* FROM voice_clips v JOIN messages m ON m.id = v.message_id WHERE v.id = $1 AND m.deleted_at IS NULL',
      [voiceId],
    );
    const clip = rows[0];
    // Idempotent by job id: a finished clip (ready or failed) is never processed again.
    if (!clip || clip.status === 'ready' || clip.status === 'failed' || !clip.original_key) return;
    const work = await mkdtemp(join(tmpdir(), 'pigeon-voice-'));
    try {
      const input = await this.storage.localPath(clip.original_key);
      // The container is judged again from the stored bytes (never from a client's word or the DB).
      const format = sniffAudio(await readHead(input));
      if (!format) {
        await this.finish(clip, { status: 'failed', failure_reason: 'not a supported audio container' });
        throw new UnrecoverableError('not a supported audio container');
      }
      const opusPath = join(work, 'voice.ogg');
      const aacPath = join(work, 'voice.m4a');
      let pcm: Buffer;
      const ffmpegStarted = performance.now();
      try {
        pcm = await this.runFfmpeg(input, format, opusPath, aacPath);
      } catch (error) {
        if (error instanceof CorruptAudio) {
          await this.finish(clip, { status: 'failed', failure_reason: error.message });
          throw new UnrecoverableError(error.message);
        }
        throw error;
      }
      const durationMs = Math.round((pcm.length / 2 / PCM_RATE) * 1000);
      this.metrics.transcoded((performance.now() - ffmpegStarted) / 1000, durationMs / 1000);
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
      const base = clip.original_key.replace(/\/original$/, '');
      await this.storage.putFile(`${base}/voice.ogg`, opusPath);
      await this.storage.putFile(`${base}/voice.m4a`, aacPath);
      await this.finish(clip, {
        status: 'ready',
        opus_key: `${base}/voice.ogg`,
        aac_key: `${base}/voice.m4a`,
        duration_ms: durationMs,
        waveform: waveform(pcm),
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /**
   * Saves the outcome and appends `message.updated` in one transaction through MessagesService, so the
   * channel's seqs stay gap-free and a crash cannot keep the change without its event.
   */
  private async finish(
    clip: VoiceRow,
    change: Partial<Pick<VoiceRow, 'status' | 'opus_key' | 'aac_key' | 'duration_ms' | 'waveform' | 'failure_reason'>>,
  ): Promise<void> {
    const columns = Object.keys(change);
    let deleted = false;
    await this.messages.changeMessage(null, clip.message_id, undefined, async (manager, message) => {
      // Deleted while it was being transcoded: no event, and the new renditions go (below).
      if (message.deleted_at) {
        deleted = true;
        return null;
      }
      const updated: [unknown[], number] = await manager.query(
        `UPDATE voice_clips SET ${columns.map((c, i) => `${c} = $${i + 2}`).join(', ')}, updated_at = now()
          WHERE id = $1 AND status NOT IN ('ready', 'failed') RETURNING id`,
        [clip.id, ...Object.values(change)],
      );
      // A second run of the same job (stalled lock) finds the clip finished: no second event.
      return updated[1] > 0 ? 'message.updated' : null;
    });
    if (deleted) {
      for (const key of [change.opus_key, change.aac_key]) if (key) await this.storage.remove(key);
      return;
    }
    if (change.status === 'failed') this.logger.warn(`Voice ${clip.id} failed: ${change.failure_reason}`);
  }

  /**
   * Untrusted input is contained: the demuxer is fixed from the sniffed type (ffmpeg never probes, so
   * it never parses a playlist or concat script), the bytes come through a pipe and `pipe` is the only
   * protocol the input may open (no file, no network), and the decoded length is capped while it runs.
   */
  private runFfmpeg(input: string, format: SniffedAudio, opusPath: string, aacPath: string): Promise<Buffer> {
    // One second of slack past the limit, so an over-long recording is measured as too long, not cut.
    const maxSeconds = this.config.get('VOICE_MAX_SECONDS') + 1;
    const maxPcmBytes = maxSeconds * PCM_RATE * 2;
    const args = [
      '-hide_banner',
      '-v',
      'error',
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
      `[0:a:0]${LOUDNORM},aresample=48000,aformat=channel_layouts=mono,asplit=2[opus][aac]`,
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
      '[aac]',
      '-c:a',
      'aac',
      '-b:a',
      '64k',
      '-movflags',
      '+faststart',
      '-f',
      'mp4',
      aacPath,
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
    return new Promise((resolve, reject) => {
      const child = spawn(ffmpegBinary(), args, { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let outBytes = 0;
      let stderr = '';
      const source = createReadStream(input);
      // ffmpeg may stop reading early (bad input): a broken pipe is its verdict, not an error of ours.
      child.stdin.on('error', () => undefined);
      source.on('error', () => child.kill('SIGKILL'));
      source.pipe(child.stdin);
      child.stdout.on('data', (chunk: Buffer) => {
        outBytes += chunk.length;
        if (outBytes > maxPcmBytes) {
          child.kill('SIGKILL');
          return;
        }
        out.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
      const timer = setTimeout(() => child.kill('SIGKILL'), FFMPEG_TIMEOUT_MS);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error); // ffmpeg missing or not executable: retryable, not the input's fault
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        source.destroy();
        if (outBytes > maxPcmBytes) return reject(new CorruptAudio(`longer than ${maxSeconds - 1} s`));
        if (code === 0) return resolve(Buffer.concat(out));
        if (signal) return reject(new Error(`ffmpeg killed by ${signal}`));
        const lastLine = stderr.trim().split('\n').pop() ?? '';
        reject(new CorruptAudio(`undecodable audio${lastLine ? `: ${lastLine.slice(0, 300)}` : ''}`));
      });
    });
  }
}

/** The first bytes of a stored file, enough for every container check in sniffAudio. */
async function readHead(path: string): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(64 * 1024);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}
