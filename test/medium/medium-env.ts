import { TEST_DATABASE_URL, TEST_JWT_SECRET, TEST_REDIS_PREFIX, TEST_REDIS_URL } from '../support/env';

// The process environment of an in-process app, as test/support/server.ts gives a spawned one.
Object.assign(process.env, {
  NODE_ENV: 'test',
  DATABASE_URL: TEST_DATABASE_URL,
  REDIS_URL: TEST_REDIS_URL,
  REDIS_PREFIX: `${TEST_REDIS_PREFIX}-medium`,
  JWT_SECRET: TEST_JWT_SECRET,
  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
});
