import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { ffmpegBinary } from './ffmpeg-binary';

export interface FfmpegOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  /** The tail of stderr, for the failure reason. */
  stderr: string;
  /** stdout passed `maxStdoutBytes` and ffmpeg was killed. */
  overflowed: boolean;
}

/**
 * Runs ffmpeg with `input` on its stdin: the bytes come from storage through a pipe, never as a path or
 * URL ffmpeg would open itself. Rejects only when ffmpeg cannot run at all (missing, not executable).
 */
export function runFfmpeg(
  args: string[],
  input: Readable,
  options: { timeoutMs: number; maxStdoutBytes?: number },
): Promise<FfmpegOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegBinary(), args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let outBytes = 0;
    let overflowed = false;
    let stderr = '';
    // ffmpeg may stop reading early (bad input): a broken pipe is its verdict, not an error of ours.
    child.stdin.on('error', () => undefined);
    input.on('error', () => child.kill('SIGKILL'));
    input.pipe(child.stdin);
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (options.maxStdoutBytes !== undefined && outBytes > options.maxStdoutBytes) {
        overflowed = true;
        child.kill('SIGKILL');
        return;
      }
      out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      input.destroy();
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      input.destroy();
      resolve({ code, signal, stdout: Buffer.concat(out), stderr, overflowed });
    });
  });
}

/** The last stderr line, for a failure reason. */
export const lastLine = (stderr: string) => stderr.trim().split('\n').pop() ?? '';
