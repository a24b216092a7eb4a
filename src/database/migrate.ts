import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ensureAppRole } from './app-role';
import { dataSourceOptions } from './data-source-options';
import { databaseUrls } from './database-urls';
import { ensureDatabase } from './ensure-database';

/**
 * Creates the database if needed and applies pending migrations as the owner (`ownerUrl`); then, when
 * the application connects as another role (`appUrl`), makes sure that role exists and may use the
 * tables. Safe to run from several processes.
 */
export async function migrate(ownerUrl: string, appUrl: string = ownerUrl): Promise<string[]> {
  await ensureDatabase(ownerUrl);
  const dataSource = new DataSource({ ...dataSourceOptions(ownerUrl, 2, 'owner'), migrationsTransactionMode: 'all' });
  await dataSource.initialize();
  let applied: string[];
  try {
    // An advisory lock keeps concurrent starters (several API nodes) from racing each other;
    // it is held on its own connection, which must also release it.
    const lockRunner = dataSource.createQueryRunner();
    await lockRunner.connect();
    try {
      await lockRunner.query('SELECT pg_advisory_lock(727274)');
      applied = (await dataSource.runMigrations()).map((m) => m.name);
    } finally {
      await lockRunner.query('SELECT pg_advisory_unlock(727274)').catch(() => undefined);
      await lockRunner.release();
    }
  } finally {
    await dataSource.destroy();
  }
  await ensureAppRole(ownerUrl, appUrl);
  return applied;
}

if (require.main === module) {
  const urls = databaseUrls(process.env);
  migrate(urls.owner, urls.app)
    .then((names) => {
      process.stdout.write(names.length ? `Applied: ${names.join(', ')}\n` : 'No pending migrations\n');
    })
    .catch((error: unknown) => {
      process.stderr.write(`Migration failed: ${String(error)}\n`);
      process.exit(1);
    });
}
