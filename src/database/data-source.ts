import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';
import { databaseUrls } from './database-urls';

/** The standalone data source for the TypeORM CLI (`npm run migration:generate`, `migration:run`): the owner role. */
export default new DataSource(dataSourceOptions(databaseUrls(process.env).owner, 2, 'owner'));
