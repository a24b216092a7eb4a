import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegBinary } from './ffmpeg-binary';
import {
  applyOpusHeadGain,
  EBUR128_MEASURE,
  MAX_GAIN_DB,
  normalisingGainDb,
  oggPageCrc,
  parseEbur128Summary,
  PEAK_CEILING_DBFS,
  setOpusHeadGain,
  TARGET_LUFS,
} from './loudness';

function ffmpeg(args: string[]): string {
  const run = spawnSync(ffmpegBinary(), ['-hide_banner', '-nostats', ...args], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${run.stderr.slice(-500)}`);
  return run.stderr;
}

/** What ffmpeg's own Opus decoder hears in a file: its loudness summary. */
function measure(path: string) {
  const summary = parseEbur128Summary(ffmpeg(['-v', 'info', '-i', path, '-af', EBUR128_MEASURE, '-f', 'null', '-']));
  if (!summary) throw new Error('no summary');
  return summary;
}

describe('loudness', () => {
  let dir: string;
  let opus: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pigeon-loudness-'));
    opus = join(dir, 'tone.ogg');
    // Two tones at -30 dBFS-ish: quiet, with room to be lifted.
    ffmpeg(['-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=5,volume=0.05', '-c:a', 'libopus', '-b:a', '32k', '-f', 'ogg', opus]);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('computes the Ogg page checksum ffmpeg wrote', () => {
    const file = readFileSync(opus);
    const segments = file[26];
    let length = 27 + segments;
    for (let i = 0; i < segments; i++) length += file[27 + i];
    expect(oggPageCrc(file.subarray(0, length))).toBe(file.readUInt32LE(22));
  });

  it('sets a header gain that the decoder applies, in a file that still checks out', async () => {
    const before = measure(opus);
    const copy = join(dir, 'gained.ogg');
    writeFileSync(copy, readFileSync(opus));
    await applyOpusHeadGain(copy, 12);
    const after = measure(copy);
    expect(after.integratedLufs! - before.integratedLufs!).toBeCloseTo(12, 0);
    expect(after.samplePeakDbfs! - before.samplePeakDbfs!).toBeCloseTo(12, 0);
    // A wrong checksum makes ffmpeg drop the page (and the stream with it): it must decode cleanly.
    expect(ffmpeg(['-v', 'warning', '-i', copy, '-f', 'null', '-'])).not.toMatch(/checksum|invalid/i);
  });

  it('refuses a file that is not Ogg Opus', () => {
    expect(() => setOpusHeadGain(Buffer.from('RIFF0000WAVEfmt '.padEnd(64, ' ')), 3)).toThrow('not an Ogg page');
  });

  it('reads the summary of a real run, and silence as no loudness', () => {
    const silent = join(dir, 'silence.ogg');
    ffmpeg(['-y', '-f', 'lavfi', '-i', 'anullsrc=r=48000:cl=mono', '-t', '2', '-c:a', 'libopus', '-f', 'ogg', silent]);
    expect(measure(silent)).toEqual({ integratedLufs: null, samplePeakDbfs: null });
    const tone = measure(opus);
    expect(tone.integratedLufs).toBeLessThan(-20);
    expect(tone.samplePeakDbfs).toBeLessThan(-20);
  });

  it('aims at the target, never lifts a peak past the ceiling, attenuates loud clips', () => {
    expect(normalisingGainDb({ integratedLufs: -26, samplePeakDbfs: -20 })).toBe(TARGET_LUFS + 26);
    expect(normalisingGainDb({ integratedLufs: -40, samplePeakDbfs: -10 })).toBeCloseTo(PEAK_CEILING_DBFS + 10, 2);
    expect(normalisingGainDb({ integratedLufs: -8, samplePeakDbfs: -0.5 })).toBe(-8);
    expect(normalisingGainDb({ integratedLufs: -69, samplePeakDbfs: -60 })).toBe(MAX_GAIN_DB);
    expect(normalisingGainDb({ integratedLufs: null, samplePeakDbfs: -60 })).toBe(0);
  });
});
