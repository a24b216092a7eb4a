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

  it('allows private webhook and push targets only when NODE_ENV says development or test', () => {
    expect(validateEnv({}).ALLOW_PRIVATE_TARGETS).toBe(false);
    expect(validateEnv({ NODE_ENV: 'test' }).ALLOW_PRIVATE_TARGETS).toBe(true);
    expect(validateEnv({ NODE_ENV: 'development' }).ALLOW_PRIVATE_TARGETS).toBe(true);
    expect(validateEnv({ NODE_ENV: 'development', ALLOW_PRIVATE_TARGETS: 'false' }).ALLOW_PRIVATE_TARGETS).toBe(false);
  });

  it('requires JWT_SECRET in production', () => {
    expect(() => validateEnv({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET is required/);
    const env = validateEnv({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) });
    expect(env.ALLOW_PRIVATE_TARGETS).toBe(false);
  });
});
