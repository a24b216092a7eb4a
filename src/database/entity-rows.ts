import type { DataSource, EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm';

/** Maps a raw row (`RETURNING *`, `SELECT c.*`) to its entity. */
export type RowMapper<T> = (raw: Record<string, unknown>) => T;

/**
 * Raw SQL and TypeORM reads share one row type per table, the entity: a raw row is hydrated the way
 * TypeORM hydrates its own reads (column names to properties, dates, bigint transformers), so a
 * query that selects `*` needs no change when a column is added to the entity.
 */
export function entityRows<T extends ObjectLiteral>(dataSource: DataSource, target: EntityTarget<T>): RowMapper<T> {
  // Resolved on first use: the metadata exists once the data source is initialized.
  let metadata: EntityMetadata | undefined;
  return (raw) => {
    metadata ??= dataSource.getMetadata(target);
    const entity = metadata.create() as T;
    for (const column of metadata.columns) {
      if (column.databaseName in raw) {
        column.setEntityValue(entity, dataSource.driver.prepareHydratedValue(raw[column.databaseName], column));
      }
    }
    return entity;
  };
}
