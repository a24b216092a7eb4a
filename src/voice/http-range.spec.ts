import { parseRange } from './http-range';

describe(parseRange.name, () => {
  it.each([
    ['bytes=0-99', { start: 0, end: 99 }],
    ['bytes=100-', { start: 100, end: 999 }],
    ['bytes=-100', { start: 900, end: 999 }],
    ['bytes=900-5000', { start: 900, end: 999 }],
    ['bytes=-5000', { start: 0, end: 999 }],
  ])('%s of 1000 bytes', (header, expected) => expect(parseRange(header, 1000)).toEqual(expected));

  it.each(['bytes=1000-', 'bytes=5-4', 'bytes=-0'])('%s of 1000 bytes is unsatisfiable', (header) =>
    expect(parseRange(header, 1000)).toBe('unsatisfiable'),
  );

  it.each([undefined, 'bytes=0-1,5-6', 'items=0-1', 'bytes=-'])('%s serves everything', (header) =>
    expect(parseRange(header, 1000)).toBeNull(),
  );
});
