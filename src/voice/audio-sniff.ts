/** An accepted audio container: the media type clients see and the ffmpeg demuxer that may read it. */
export interface SniffedAudio {
  mimeType: 'audio/webm' | 'audio/ogg' | 'audio/mp4' | 'audio/wav' | 'audio/mpeg';
  /** Passed as `-f`: ffmpeg never probes untrusted bytes, so a playlist or concat script is never parsed. */
  ffmpegFormat: 'matroska' | 'ogg' | 'mov' | 'wav' | 'mp3';
}

const MP4_BRANDS = new Set(['isom', 'iso2', 'iso5', 'iso6', 'mp41', 'mp42', 'M4A ', 'M4B ', 'dash', 'avc1', 'qt  ', '3gp4', '3gp5', 'MSNV']);

/** A plausible MPEG-1/2/2.5 layer I-III frame header at `offset`: sync, known version, layer, bitrate and rate. */
function isMpegFrame(bytes: Buffer, offset: number): boolean {
  if (offset + 4 > bytes.length) return false;
  const [b0, b1, b2] = [bytes[offset], bytes[offset + 1], bytes[offset + 2]];
  if (b0 !== 0xff || (b1 & 0xe0) !== 0xe0) return false;
  const version = (b1 >> 3) & 0x03; // 01 is reserved
  const layer = (b1 >> 1) & 0x03; // 00 is reserved
  const bitrate = (b2 >> 4) & 0x0f; // 1111 is invalid
  const rate = (b2 >> 2) & 0x03; // 11 is reserved
  return version !== 1 && layer !== 0 && bitrate !== 0x0f && rate !== 0x03;
}

/** Length of an ID3v2 tag (header, syncsafe size, optional footer), or -1 when the header is malformed. */
function id3Length(bytes: Buffer): number {
  if (bytes.length < 10) return -1;
  const major = bytes[3];
  const sizeBytes = [bytes[6], bytes[7], bytes[8], bytes[9]];
  if (major < 2 || major > 4 || bytes[4] === 0xff || sizeBytes.some((b) => b & 0x80)) return -1;
  const size = (sizeBytes[0] << 21) | (sizeBytes[1] << 14) | (sizeBytes[2] << 7) | sizeBytes[3];
  const footer = (bytes[5] & 0x10) !== 0 ? 10 : 0;
  return 10 + size + footer;
}

/**
 * The audio containers the server accepts, told apart by their first bytes (the client's declared type
 * is never trusted). Each check demands the container's real structure, not only a magic prefix: an
 * `ID3` tag must be followed by an MPEG audio frame, so a tag in front of an `#EXTM3U` playlist or any
 * other text is refused.
 */
export function sniffAudio(bytes: Buffer): SniffedAudio | null {
  if (bytes.length < 12) return null;
  const ascii = (start: number, end: number) => bytes.toString('latin1', start, end);
  // EBML header; its DocType ("webm" or "matroska") sits in the first few dozen bytes.
  if (bytes.readUInt32BE(0) === 0x1a45dfa3) {
    const head = ascii(0, Math.min(bytes.length, 64));
    return head.includes('webm') || head.includes('matroska') ? { mimeType: 'audio/webm', ffmpegFormat: 'matroska' } : null;
  }
  // Ogg page: capture pattern, stream structure version 0, a header type with only defined flags.
  if (ascii(0, 4) === 'OggS') {
    return bytes[4] === 0 && (bytes[5] & 0xf8) === 0 ? { mimeType: 'audio/ogg', ffmpegFormat: 'ogg' } : null;
  }
  // ISO BMFF: the first box is `ftyp` with a known major brand.
  if (ascii(4, 8) === 'ftyp') {
    const boxSize = bytes.readUInt32BE(0);
    return boxSize >= 16 && MP4_BRANDS.has(ascii(8, 12)) ? { mimeType: 'audio/mp4', ffmpegFormat: 'mov' } : null;
  }
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE') {
    return ascii(12, 16) === 'fmt ' ? { mimeType: 'audio/wav', ffmpegFormat: 'wav' } : null;
  }
  if (ascii(0, 3) === 'ID3') {
    const tagLength = id3Length(bytes);
    return tagLength > 0 && isMpegFrame(bytes, tagLength) ? { mimeType: 'audio/mpeg', ffmpegFormat: 'mp3' } : null;
  }
  if (isMpegFrame(bytes, 0)) return { mimeType: 'audio/mpeg', ffmpegFormat: 'mp3' };
  return null;
}
