import { validateEnv } from '../config/env.validation';

const base = { NODE_ENV: 'test' };

describe('huddle settings (validateEnv)', () => {
  it('defaults: no ICE servers, cap 8, TURN credentials for an hour', () => {
    const sut = validateEnv(base);
    expect({ stun: sut.STUN_URLS, turn: sut.TURN_URLS, secret: sut.TURN_SECRET, ttl: sut.TURN_TTL_SECONDS, cap: sut.HUDDLE_MAX_PARTICIPANTS }).toEqual({
      stun: '',
      turn: '',
      secret: undefined,
      ttl: 3600,
      cap: 8,
    });
  });

  it('takes comma-separated stun:/turn: URLs with a secret', () => {
    const sut = validateEnv({ ...base, STUN_URLS: 'stun:a:3478', TURN_URLS: 'turn:a:3478?transport=udp, turns:a:5349', TURN_SECRET: 'x'.repeat(16), HUDDLE_MAX_PARTICIPANTS: '4' });
    expect(sut.TURN_URLS).toBe('turn:a:3478?transport=udp, turns:a:5349');
    expect(sut.HUDDLE_MAX_PARTICIPANTS).toBe(4);
  });

  it.each([
    [{ TURN_URLS: 'turn:a:3478' }, /TURN_URLS needs TURN_SECRET/],
    [{ TURN_URLS: 'http://a', TURN_SECRET: 'x'.repeat(16) }, /TURN_URLS/],
    [{ STUN_URLS: 'turn:a:3478' }, /STUN_URLS/],
    [{ TURN_SECRET: 'short' }, /TURN_SECRET/],
    [{ HUDDLE_MAX_PARTICIPANTS: '1' }, /HUDDLE_MAX_PARTICIPANTS/],
  ])('refuses %j', (env, message) => {
    expect(() => validateEnv({ ...base, ...env })).toThrow(message);
  });
});
