import { parseClusterNodes, validateEnv } from './env.validation';

describe(validateEnv.name, () => {
  it('fills safe local defaults', () => {
    const env = validateEnv({});
    expect(env.PORT).toBe(3000);
    // The application as pigeon_app (row-level security applies), migrations as the local superuser.
    expect(env.DATABASE_URL).toBe('postgres://pigeon_app@127.0.0.1:5432/pigeon');
    expect(env.DATABASE_OWNER_URL).toBe('postgres://postgres@127.0.0.1:5432/pigeon');
    expect(env.SEND_RATE_BURST).toBe(20);
    expect(env.SYNC_PAGE_LIMIT).toBe(500);
  });

  it('runs migrations as DATABASE_URL when only that is set (one role for both)', () => {
    expect(validateEnv({ DATABASE_URL: 'postgres://me@db/app' }).DATABASE_OWNER_URL).toBe('postgres://me@db/app');
    expect(validateEnv({ DATABASE_URL: 'postgres://app@db/app', DATABASE_OWNER_URL: 'postgres://owner@db/app' }).DATABASE_OWNER_URL).toBe(
      'postgres://owner@db/app',
    );
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

  it('keeps the classic Socket.IO adapter unless told otherwise, and needs the cluster seeds for the sharded one', () => {
    expect(validateEnv({}).SOCKET_ADAPTER).toBe('classic');
    expect(() => validateEnv({ SOCKET_ADAPTER: 'sharded' })).toThrow(/REDIS_FANOUT_CLUSTER_NODES is required/);
    expect(() => validateEnv({ SOCKET_ADAPTER: 'cluster' })).toThrow(/SOCKET_ADAPTER/);
    const env = validateEnv({ SOCKET_ADAPTER: 'sharded', REDIS_FANOUT_CLUSTER_NODES: 'redis-a:7000, 10.0.0.2:7001,[::1]:7002' });
    expect(parseClusterNodes(env.REDIS_FANOUT_CLUSTER_NODES ?? '')).toEqual([
      { host: 'redis-a', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
  });

  it('refuses cluster seeds that are not host:port', () => {
    for (const bad of ['redis-a', 'redis://redis-a:7000', 'redis-a:7000,', 'redis-a:port', 'a b:7000']) {
      expect(() => validateEnv({ SOCKET_ADAPTER: 'sharded', REDIS_FANOUT_CLUSTER_NODES: bad })).toThrow(/REDIS_FANOUT_CLUSTER_NODES/);
    }
    expect(() => validateEnv({ SOCKET_ADAPTER: 'sharded', REDIS_FANOUT_CLUSTER_NODES: 'redis-a:70000' })).toThrow(/port 70000/);
  });
});
