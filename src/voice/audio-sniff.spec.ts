import { sniffAudio } from './audio-sniff';

describe(sniffAudio.name, () => {
  const bytes = (...parts: (string | number[])[]) =>
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
  const mpegFrame = [0xff, 0xfb, 0x90, 0x64, 0, 0, 0, 0];

  it.each([
    ['audio/webm', 'matroska', bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01], 'B\x82\x84webm')],
    ['audio/ogg', 'ogg', bytes('OggS', [0, 2, 0, 0, 0, 0, 0, 0, 0, 0])],
    ['audio/mp4', 'mov', bytes([0, 0, 0, 0x20], 'ftypM4A ', [0, 0, 0, 0])],
    ['audio/wav', 'wav', bytes('RIFF', [0x24, 0, 0, 0], 'WAVEfmt ')],
    ['audio/mpeg', 'mp3', bytes('ID3', [4, 0, 0, 0, 0, 0, 0], mpegFrame)],
    ['audio/mpeg', 'mp3', bytes('ID3', [3, 0, 0, 0, 0, 0, 2], [0, 0], mpegFrame)],
    ['audio/mpeg', 'mp3', bytes(mpegFrame, mpegFrame)],
  ])('recognizes %s and fixes the demuxer to %s', (mimeType, ffmpegFormat, input) =>
    expect(sniffAudio(input)).toEqual({ mimeType, ffmpegFormat }),
  );

  it.each([
    ['text', bytes('hello, this is not audio')],
    ['too short', bytes('Og')],
    ['RIFF but AVI', bytes('RIFF', [0, 0, 0, 0], 'AVI LIST')],
    ['PNG', bytes([0x89], 'PNG', [13, 10, 26, 10])],
    // The audit's attack: an ID3 tag in front of an HLS playlist that names a local file.
    ['ID3 tag then a playlist', bytes('ID3', [4, 0, 0, 0, 0, 0, 0], '#EXTM3U\n#EXTINF:1,\n/etc/passwd\n')],
    ['ID3 tag with a size that points past the end', bytes('ID3', [4, 0, 0, 0, 0, 0x7f, 0x7f], mpegFrame)],
    ['ID3 with a non-syncsafe size', bytes('ID3', [4, 0, 0, 0x80, 0, 0, 0], mpegFrame)],
    ['EBML that is neither WebM nor Matroska', bytes([0x1a, 0x45, 0xdf, 0xa3], 'B\x82\x84xxxx and more bytes')],
    ['ftyp with an unknown brand', bytes([0, 0, 0, 0x20], 'ftypevil', [0, 0, 0, 0])],
    ['Ogg with a bad version', bytes('OggS', [1, 2, 0, 0, 0, 0, 0, 0, 0, 0])],
    ['frame sync with a reserved layer', bytes([0xff, 0xf9, 0x90, 0x64], '#EXTM3U\nfile:/x')],
  ])('refuses %s', (_what, input) => expect(sniffAudio(input)).toBeNull());
});
