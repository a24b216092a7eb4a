import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';
import { ensureDatabase } from './ensure-database';

/** Creates the database if needed and applies pending migrations; safe to run from several processes. */
export async function migrate(url: string): Promise<string[]> {
  await ensureDatabase(url);
  const dataSource = new DataSource({ ...dataSourceOptions(url, 2), migrationsTransactionMode: 'all' });
  await dataSource.initialize();
  try {
    // An advisory lock keeps concurrent starters (several API nodes) from racing each other;
    // it is held on its own connection, which must also release it.
    const lockRunner = dataSource.createQueryRunner();
    await lockRunner.connect();
    try {
      await lockRunner.query('SELECT pg_advisory_lock(727274)');
      const applied = await dataSource.runMigrations();
      return applied.map((m) => m.name);
    } finally {
      await lockRunner.query('SELECT pg_advisory_unlock(727274)').catch(() => undefined);
      await lockRunner.release();
    }
  } finally {
    await dataSource.destroy();
  }
}

if (require.main === module) {
  migrate(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pigeon')
    .then((names) => {
      process.stdout.write(names.length ? `Applied: ${names.join(', ')}\n` : 'No pending migrations\n');
    })
    .catch((error: unknown) => {
      process.stderr.write(`Migration failed: ${String(error)}\n`);
      process.exit(1);
    });
}
