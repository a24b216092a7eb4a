import { open } from 'node:fs/promises';

/** What the listener hears: integrated loudness (EBU R128) of speech, as podcasts and streaming use. */
export const TARGET_LUFS = -16;
/** Gain never lifts a sample above this, so a normalised clip cannot clip when decoded. */
export const PEAK_CEILING_DBFS = -1.5;
/** At most this much lift: a near-silent clip stays near-silent rather than turning into hiss. */
export const MAX_GAIN_DB = 30;

/** ffmpeg's ebur128 filter, measuring while the same run encodes; its summary goes to stderr at `info`. */
export const EBUR128_MEASURE = 'ebur128=peak=sample:framelog=verbose';

export interface Loudness {
  /** Integrated loudness, LUFS; null when nothing passed the gate (silence). */
  integratedLufs: number | null;
  /** Highest sample, dBFS; null for digital silence. */
  samplePeakDbfs: number | null;
}

function lastNumber(text: string, pattern: RegExp): number | null {
  let value: number | null = null;
  for (const match of text.matchAll(pattern)) value = match[1] === '-inf' ? null : Number(match[1]);
  return value !== null && Number.isFinite(value) ? value : null;
}

/** The ebur128 summary of an ffmpeg run's stderr; null when there is none (the filter never finished). */
export function parseEbur128Summary(stderr: string): Loudness | null {
  const at = stderr.lastIndexOf('Summary:');
  if (at < 0) return null;
  const summary = stderr.slice(at);
  const integrated = lastNumber(summary, /Integrated loudness:\s+I:\s+(-?[\d.]+|-inf) LUFS/g);
  const peak = lastNumber(summary, /Sample peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS/g);
  // ebur128 reports -70 LUFS (its absolute gate) when no block was loud enough to count.
  return { integratedLufs: integrated !== null && integrated > -70 ? integrated : null, samplePeakDbfs: peak };
}

/**
 * The gain that brings a clip to TARGET_LUFS without lifting its loudest sample above
 * PEAK_CEILING_DBFS (a peak-limited gain, as ReplayGain does, instead of loudnorm's dynamic
 * compression), in the Q7.8 steps the Opus header stores. Silence gets none.
 */
export function normalisingGainDb(loudness: Loudness): number {
  if (loudness.integratedLufs === null || loudness.samplePeakDbfs === null) return 0;
  const gain = Math.min(TARGET_LUFS - loudness.integratedLufs, PEAK_CEILING_DBFS - loudness.samplePeakDbfs, MAX_GAIN_DB);
  return Math.round(gain * 256) / 256;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let bit = 0; bit < 8; bit++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

/** The Ogg page checksum (RFC 3533: CRC-32, polynomial 0x04c11db7, no reflection), checksum field zeroed. */
export function oggPageCrc(page: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < page.length; i++) {
    const byte = i >= 22 && i < 26 ? 0 : page[i];
    crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]) >>> 0;
  }
  return crc;
}

/**
 * Sets the output gain of an Ogg Opus stream's identification header (RFC 7845 section 5.1: every
 * decoder applies it to what it decodes), so loudness is normalised in the run that encodes, with
 * no second decode and encode. `head` starts with the file's first page, changed in place; answers
 * that page's length.
 */
export function setOpusHeadGain(head: Buffer, gainDb: number): number {
  if (head.length < 27 || head.toString('latin1', 0, 4) !== 'OggS') throw new Error('not an Ogg page');
  const segments = head[26];
  const dataStart = 27 + segments;
  let dataLength = 0;
  for (let i = 0; i < segments; i++) dataLength += head[27 + i];
  const pageLength = dataStart + dataLength;
  if (pageLength > head.length || dataLength < 19 || head.toString('latin1', dataStart, dataStart + 8) !== 'OpusHead') {
    throw new Error('the first Ogg page is not an Opus identification header');
  }
  head.writeInt16LE(Math.round(gainDb * 256), dataStart + 16);
  head.writeUInt32LE(oggPageCrc(head.subarray(0, pageLength)), 22);
  return pageLength;
}

/** setOpusHeadGain on a file written by ffmpeg: only its first page changes. */
export async function applyOpusHeadGain(path: string, gainDb: number): Promise<void> {
  const file = await open(path, 'r+');
  try {
    // The first page holds only the identification header: 27 + 1 + 19 bytes for one channel.
    const head = Buffer.alloc(512);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    const page = head.subarray(0, bytesRead);
    await file.write(page, 0, setOpusHeadGain(page, gainDb), 0);
  } finally {
    await file.close();
  }
}
