import { validateEnv } from './env.validation';

describe(validateEnv.name, () => {
  it('fills safe local defaults', () => {
    const env = validateEnv({});
    expect(env.PORT).toBe(3000);
    expect(env.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/pigeon');
    expect(env.SEND_RATE_BURST).toBe(20);
    expect(env.SYNC_PAGE_LIMIT).toBe(500);
  });

  it('names the variable of a wrong value', () => {
    expect(() => validateEnv({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => validateEnv({ SEND_RATE_BURST: '0' })).toThrow(/SEND_RATE_BURST/);
    expect(() => validateEnv({ JWT_SECRET: 'short' })).toThrow(/JWT_SECRET/);
  });

  it('requires JWT_SECRET in production', () => {
    expect(() => validateEnv({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET is required/);
    const env = validateEnv({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) });
    expect(env.ALLOW_PRIVATE_TARGETS).toBe(false);
  });
});
