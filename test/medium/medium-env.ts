import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setProcessContext, systemContext } from '../../src/tenancy/tenant-context';
import { TEST_DATABASE_URL, TEST_JWT_SECRET, TEST_REDIS_PREFIX, TEST_REDIS_URL } from '../support/env';

/**
 * The environment of the medium tests' Nest modules. Imported first: the config and logger modules
 * read process.env when they are declared, i.e. when they are imported.
 */
export const ABANDON_MS = 1500;
export const MEDIUM_REDIS_PREFIX = `${TEST_REDIS_PREFIX}-medium-${randomBytes(3).toString('hex')}`;
export const MEDIUM_STORAGE_DIR = mkdtempSync(join(tmpdir(), 'pigeon-medium-voice-'));
const saved = { ...process.env };
// The medium tier drives services from test code (seeding, direct calls), as the worker drives its
// jobs: one named scope for the process, the way src/worker.ts runs. Code under test that sets its own
// context (the batch writer runs as its authors) still does; row-level security itself is tested by
// test/rls.spec.ts against the application role, and by every process-level spec.
setProcessContext(systemContext('medium-test'));
Object.assign(process.env, {
  NODE_ENV: 'test',
  DATABASE_URL: TEST_DATABASE_URL,
  REDIS_URL: TEST_REDIS_URL,
  REDIS_PREFIX: MEDIUM_REDIS_PREFIX,
  JWT_SECRET: TEST_JWT_SECRET,
  LOG_LEVEL: 'silent',
  RUN_MIGRATIONS: 'false',
  STORAGE_DRIVER: 'local',
  VOICE_STORAGE_DIR: MEDIUM_STORAGE_DIR,
  VOICE_ABANDON_MS: String(ABANDON_MS),
  VOICE_MAX_BYTES: String(64 * 1024),
  SEND_RATE_BURST: '100000',
  SEND_RATE_PER_SECOND: '100000',
});

/** Puts the environment back (other suites of the same jest process must not inherit these values). */
export function restoreEnv(): void {
  setProcessContext(null);
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
}
