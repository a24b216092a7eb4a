import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { TEST_DATABASE_URL } from './env';

/** A fresh test database with every migration applied, once per run. */
export default async function globalSetup(): Promise<void> {
  const root = process.cwd();
  if (!existsSync(join(root, 'dist', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
  const name = new URL(TEST_DATABASE_URL).pathname.slice(1);
  const admin = new URL(TEST_DATABASE_URL);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await client.end();
  const result = spawnSync(process.execPath, [join(root, 'dist', 'database', 'migrate.js')], {
    env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`Migrations failed: ${result.stderr}`);
}
