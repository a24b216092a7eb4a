import { Injectable, Logger } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { AppConfigService } from '../config/app-config.service';
import { BlobStorage } from '../storage/blob-storage';
import { sniffAudio } from './audio-sniff';
import { lastLine, runFfmpeg } from './ffmpeg-run';
import { VoiceClipRepository } from './voice-clip.repository';
import { VoiceClips } from './voice-clips.service';

const run = promisify(execFile);
const TRANSCRIPT_MAX_CHARS = 20_000;

/**
 * Worker side: speech to text through an operator-provided command (TRANSCRIBE_CMD, e.g. whisper.cpp
 * or pocketsphinx). It gets a 16 kHz mono WAV and prints the transcript; the transcript is stored on
 * the clip (a trigger re-indexes the message for search) and announced as `message.updated`.
 * Best effort: a failing engine leaves the clip without a transcript and never fails the voice.
 */
@Injectable()
export class TranscribeService {
  private readonly logger = new Logger(TranscribeService.name);
  private readonly command: string[] | null;

  constructor(
    private readonly repository: VoiceClipRepository,
    private readonly clips: VoiceClips,
    private readonly storage: BlobStorage,
    private readonly config: AppConfigService,
  ) {
    const raw = config.get('TRANSCRIBE_CMD')?.trim();
    this.command = raw ? raw.split(/\s+/) : null;
  }

  get enabled(): boolean {
    return this.command !== null;
  }

  /** Transcribes a ready clip once (a clip with a transcript is skipped, so job re-runs are harmless). */
  async transcribe(voiceId: string): Promise<void> {
    if (!this.command) return;
    const clip = await this.repository.find(voiceId);
    if (!clip || clip.status !== 'ready' || clip.transcript !== null || !clip.original_key) return;
    const work = await mkdtemp(join(tmpdir(), 'pigeon-transcribe-'));
    try {
      const wav = join(work, 'speech.wav');
      // The original (best for recognition), contained as in transcoding: the demuxer fixed from the
      // sniffed type, the bytes through a pipe, `pipe` the only protocol the input may open.
      const format = sniffAudio(await this.storage.readHead(clip.original_key, 64 * 1024));
      if (!format) return;
      const input = await this.storage.read(clip.original_key);
      await decodeToWav(input, format.ffmpegFormat, wav, this.config.get('TRANSCRIBE_TIMEOUT_MS'));
      const transcript = (await this.runEngine(wav)).replace(/\s+/g, ' ').trim().slice(0, TRANSCRIPT_MAX_CHARS);
      await this.clips.change(clip, { transcript }, 'untranscribed');
    } catch (error) {
      this.logger.warn({ err: error }, `Transcription of voice ${voiceId} failed`);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  private async runEngine(wav: string): Promise<string> {
    const [program, ...args] = this.command!;
    const withInput = args.includes('{wav}') ? args.map((a) => (a === '{wav}' ? wav : a)) : [...args, wav];
    const { stdout } = await run(program, withInput, {
      timeout: this.config.get('TRANSCRIBE_TIMEOUT_MS'),
      maxBuffer: 4 * 1024 * 1024,
    });
    return stdout;
  }
}

/** 16 kHz mono PCM WAV of `input`, read through stdin with a fixed demuxer. */
async function decodeToWav(input: Readable, format: string, wav: string, timeoutMs: number): Promise<void> {
  const args = ['-hide_banner', '-v', 'error', '-y', '-protocol_whitelist', 'pipe', '-f', format, '-i', 'pipe:0'];
  const outcome = await runFfmpeg([...args, '-ar', '16000', '-ac', '1', '-c:a', 'pcm_s16le', wav], input, { timeoutMs });
  if (outcome.code !== 0) {
    throw new Error(`ffmpeg could not decode for transcription: ${lastLine(outcome.stderr) || (outcome.code ?? outcome.signal)}`);
  }
}
