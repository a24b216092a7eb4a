import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { appRoleUrl } from './env';

const ADMIN_URL = process.env.TEST_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh database for this run (`pigeon_test_<random>`) with every migration applied and the application role granted. */
export default async function globalSetup(): Promise<void> {
  const root = process.cwd();
  if (!existsSync(join(root, 'dist', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
  const name = `pigeon_test_${randomBytes(4).toString('hex')}`;
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  process.env.TEST_DATABASE_URL = url.toString();
  // The servers connect as the application role, which the migrator creates (once per cluster) and grants.
  process.env.TEST_APP_DATABASE_URL = appRoleUrl(url.toString());
  // Its own Redis namespace too: other runs (or Pigeons) sharing this Redis never see its keys or jobs.
  process.env.TEST_REDIS_PREFIX ??= `pigeon-test-${randomBytes(4).toString('hex')}`;
  const result = spawnSync(process.execPath, [join(root, 'dist', 'database', 'migrate.js')], {
    env: { ...process.env, DATABASE_OWNER_URL: url.toString(), DATABASE_URL: process.env.TEST_APP_DATABASE_URL },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`Migrations failed: ${result.stderr}`);
}
