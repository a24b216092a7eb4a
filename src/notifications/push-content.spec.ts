import { admits, effectiveLevel, formatDuration, mentionedUserIds, pushBody, pushTitle } from './push-content';

const ADA = '0b6f1c1e-5a2b-4c3d-8e9f-0a1b2c3d4e5f';
const BOB = '1c7a2d2f-6b3c-4d4e-9f0a-1b2c3d4e5f60';

describe('push content', () => {
  it('finds each mentioned user once, case-insensitively', () => {
    expect(mentionedUserIds(`hi <@${ADA}> and <@${BOB.toUpperCase()}>, <@${ADA}>; <@nope> <@${ADA}`)).toEqual([
      ADA,
      BOB,
    ]);
  });

  it('applies the defaults and levels', () => {
    expect(effectiveLevel(null, 'direct')).toBe('all');
    expect(effectiveLevel(null, 'public')).toBe('mentions');
    expect(effectiveLevel('none', 'direct')).toBe('none');
    expect(admits('mentions', 'public', false)).toBe(false);
    expect(admits('mentions', 'private', true)).toBe(true);
    expect(admits('mentions', 'direct', false)).toBe(true);
    expect(admits('all', 'public', false)).toBe(true);
    expect(admits('none', 'direct', true)).toBe(false);
  });

  it('titles a channel message and a DM', () => {
    expect(pushTitle('Ada', { kind: 'public', name: 'general' })).toBe('Ada · #general');
    expect(pushTitle('Ada', { kind: 'direct', name: null })).toBe('Ada · Direct message');
  });

  it('renders mentions, collapses whitespace and cuts long text', () => {
    const names = new Map([[ADA, 'Ada']]);
    expect(pushBody({ kind: 'text', body: `hey <@${ADA}>\n\n look <@${BOB}>`, durationMs: null }, names)).toBe(
      `hey @Ada look <@${BOB}>`,
    );
    const long = pushBody({ kind: 'text', body: 'x'.repeat(500), durationMs: null }, names);
    expect([...long]).toHaveLength(120);
    expect(long.endsWith('…')).toBe(true);
  });

  it('describes voice messages with their duration when known', () => {
    expect(pushBody({ kind: 'voice', body: '', durationMs: 12_400 }, new Map())).toBe('Voice message (0:12)');
    expect(pushBody({ kind: 'voice', body: '', durationMs: null }, new Map())).toBe('Voice message');
    expect(formatDuration(605_000)).toBe('10:05');
    expect(formatDuration(3_725_000)).toBe('1:02:05');
  });
});
