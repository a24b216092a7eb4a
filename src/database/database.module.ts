import { Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfigService } from '../config/app-config.service';
import { runAsSystem } from '../tenancy/tenant-context';
import { dataSourceOptions } from './data-source-options';

const logger = new Logger('Database');

/** Warns when DATABASE_URL's role would skip the row-level security policies (see README, "Database roles"). */
async function checkRole(dataSource: DataSource): Promise<void> {
  const [role]: { name: string; bypasses: boolean; owns: boolean }[] = await dataSource.query(
    `SELECT current_user AS name, (r.rolsuper OR r.rolbypassrls) AS bypasses,
            EXISTS (SELECT 1 FROM pg_tables t WHERE t.schemaname = 'public' AND t.tableowner = current_user) AS owns
       FROM pg_roles r WHERE r.rolname = current_user`,
  );
  if (role?.bypasses) {
    logger.warn(
      `DATABASE_URL connects as ${role.name}, a superuser or BYPASSRLS role: row-level security does not apply`,
    );
  } else if (role?.owns) {
    logger.warn(`DATABASE_URL connects as ${role.name}, which owns the tables: use a separate application role`);
  }
}

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfigService],
      useFactory: (config: AppConfigService) =>
        dataSourceOptions(config.get('DATABASE_URL'), config.get('DATABASE_POOL_SIZE')),
      // TypeORM's own start-up statements (version, extensions) and the role check run under a named scope.
      dataSourceFactory: async (options) =>
        runAsSystem('database.init', async () => {
          const dataSource = await new DataSource(options!).initialize();
          await checkRole(dataSource);
          return dataSource;
        }),
    }),
  ],
})
export class DatabaseModule {}
