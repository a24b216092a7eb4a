import { sniffAudio } from './audio-sniff';

describe(sniffAudio.name, () => {
  const bytes = (...parts: (string | number[])[]) =>
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

  it.each([
    ['audio/webm', bytes([0x1a, 0x45, 0xdf, 0xa3], 'rest of an EBML header')],
    ['audio/ogg', bytes('OggS', [0, 2, 0, 0, 0, 0])],
    ['audio/mp4', bytes([0, 0, 0, 0x20], 'ftypM4A ', [0, 0])],
    ['audio/wav', bytes('RIFF', [0x24, 0, 0, 0], 'WAVEfmt ')],
    ['audio/mpeg', bytes('ID3', [4, 0, 0, 0, 0])],
    ['audio/mpeg', bytes([0xff, 0xfb, 0x90, 0x64])],
  ])('recognizes %s', (type, input) => expect(sniffAudio(input)).toBe(type));

  it.each([
    ['text', bytes('hello, this is not audio')],
    ['too short', bytes('Og')],
    ['RIFF but AVI', bytes('RIFF', [0, 0, 0, 0], 'AVI LIST')],
    ['PNG', bytes([0x89], 'PNG', [13, 10, 26, 10])],
  ])('refuses %s', (_what, input) => expect(sniffAudio(input)).toBeNull());
});
