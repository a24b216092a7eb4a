import type { DataSourceOptions } from 'typeorm';
import { tenantPg } from '../tenancy/tenant-pool';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/**
 * `app`: the application's connections, each statement in a tenant context (src/tenancy/).
 * `owner`: migrations and the CLI, under the named `migration` scope (a startup option), so data
 * migrations see every row even where the owner is subject to the policies (FORCE).
 */
export function dataSourceOptions(url: string, poolSize = 20, role: 'app' | 'owner' = 'app'): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: 'migrations',
    ...(role === 'app' ? { driver: tenantPg } : {}),
    extra: { max: poolSize, ...(role === 'owner' ? { options: '-c pigeon.scope=migration' } : {}) },
  };
}
