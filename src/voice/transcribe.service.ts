import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { execFile, spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';
import { AppConfigService } from '../config/app-config.service';
import { MessagesService } from '../messages/messages.service';
import { sniffAudio } from './audio-sniff';
import { ffmpegBinary } from './ffmpeg-binary';
import { VoiceStorage } from './voice-storage';

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
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly messages: MessagesService,
    private readonly storage: VoiceStorage,
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
    const rows: { id: string; message_id: string; status: string; original_key: string | null; transcript: string | null }[] =
      await this.dataSource.query('SELECT id, message_id, status, original_key, transcript FROM voice_clips WHERE id = $1', [voiceId]);
    const clip = rows[0];
    if (!clip || clip.status !== 'ready' || clip.transcript !== null || !clip.original_key) return;
    const work = await mkdtemp(join(tmpdir(), 'pigeon-transcribe-'));
    try {
      const wav = join(work, 'speech.wav');
      // The original (best for recognition), contained as in transcoding: the demuxer fixed from the
      // sniffed type, the bytes through a pipe, `pipe` the only protocol the input may open.
      const input = await this.storage.localPath(clip.original_key);
      const format = sniffAudio(await readFile(input).then((b) => b.subarray(0, 64 * 1024)));
      if (!format) return;
      await decodeToWav(input, format.ffmpegFormat, wav, this.config.get('TRANSCRIBE_TIMEOUT_MS'));
      const transcript = (await this.runEngine(wav)).replace(/\s+/g, ' ').trim().slice(0, TRANSCRIPT_MAX_CHARS);
      await this.messages.changeMessage(null, clip.message_id, undefined, async (manager) => {
        const updated: [unknown[], number] = await manager.query(
          'UPDATE voice_clips SET transcript = $2, updated_at = now() WHERE id = $1 AND transcript IS NULL RETURNING id',
          [clip.id, transcript],
        );
        return updated[1] > 0 ? 'message.updated' : null;
      });
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
function decodeToWav(input: string, format: string, wav: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = ['-hide_banner', '-v', 'error', '-y', '-protocol_whitelist', 'pipe', '-f', format, '-i', 'pipe:0'];
    const child = spawn(ffmpegBinary(), [...args, '-ar', '16000', '-ac', '1', '-c:a', 'pcm_s16le', wav], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.stdin.on('error', () => undefined);
    const source = createReadStream(input);
    source.on('error', () => child.kill('SIGKILL'));
    source.pipe(child.stdin);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      source.destroy();
      if (code === 0) resolve();
      else reject(new Error(`ffmpeg could not decode for transcription: ${stderr.trim().split('\n').pop() ?? code}`));
    });
  });
}
