import { toPgJson, wellFormed } from './pg-json';

describe(toPgJson.name, () => {
  it('replaces lone surrogates with U+FFFD, as a UTF-8 text parameter would', () => {
    expect(JSON.parse(toPgJson({ body: 'a\ud800b', tail: '\udfff' }))).toEqual({ body: 'a\ufffdb', tail: '\ufffd' });
  });

  it('keeps pairs, escaped backslashes and everything else as JSON.stringify writes it', () => {
    const value = { emoji: '🐦‍🔥', text: 'a\\ud800 is six characters', quote: '"', n: 1, list: [null, true] };
    expect(toPgJson(value)).toBe(JSON.stringify(value));
    expect(JSON.parse(toPgJson({ s: '\\\ud800' }))).toEqual({ s: '\\\ufffd' });
  });
});

describe(wellFormed.name, () => {
  it('replaces lone high and low surrogates and keeps pairs', () => {
    expect(wellFormed('a\ud83d')).toBe('a\ufffd');
    expect(wellFormed('\ude00b\ud83d\ude00')).toBe('\ufffdb😀');
    expect(wellFormed('🐦‍🔥 plain')).toBe('🐦‍🔥 plain');
  });
});
