/** The audio containers the upload accepts, told apart by their first bytes (the client's type is not trusted). */
export function sniffAudio(bytes: Buffer): string | null {
  if (bytes.length < 4) return null;
  const ascii = (start: number, end: number) => bytes.toString('latin1', start, end);
  if (bytes.readUInt32BE(0) === 0x1a45dfa3) return 'audio/webm';
  if (ascii(0, 4) === 'OggS') return 'audio/ogg';
  if (bytes.length >= 12 && ascii(4, 8) === 'ftyp') return 'audio/mp4';
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE') return 'audio/wav';
  if (ascii(0, 3) === 'ID3') return 'audio/mpeg';
  // An MPEG audio frame header: 11 sync bits, then a layer that is not "reserved".
  if (bytes[0] === 0xff && (bytes[1] & 0xe0) === 0xe0 && (bytes[1] & 0x06) !== 0) return 'audio/mpeg';
  return null;
}
