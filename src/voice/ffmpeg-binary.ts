import { Logger } from '@nestjs/common';
import { path as BUNDLED_FFMPEG } from '@ffmpeg-installer/ffmpeg';
import { existsSync } from 'node:fs';

/** Debian's package: security-updated by the distribution, unlike the 2018 build bundled on npm. */
const SYSTEM_FFMPEG = '/usr/bin/ffmpeg';

let resolved: string | undefined;

/**
 * The ffmpeg the worker runs: FFMPEG_PATH, else the system's, else the bundled npm build, which
 * only serves as a last resort and is warned about once (it carries years of unfixed decoder bugs).
 */
export function ffmpegBinary(env: NodeJS.ProcessEnv = process.env): string {
  if (resolved) return resolved;
  if (env.FFMPEG_PATH) resolved = env.FFMPEG_PATH;
  else if (existsSync(SYSTEM_FFMPEG)) resolved = SYSTEM_FFMPEG;
  else {
    resolved = BUNDLED_FFMPEG;
    new Logger('Ffmpeg').warn(
      `No system ffmpeg (${SYSTEM_FFMPEG}) and FFMPEG_PATH is unset: using the bundled 2018 build, which lacks security fixes. Install ffmpeg from your distribution or set FFMPEG_PATH.`,
    );
  }
  return resolved;
}
