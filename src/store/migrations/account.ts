import type { Migration } from './run.ts';

/** Schema of accounts/<id>/account.db: everything an account owns except events. */
export const accountMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'datasets, shards, tags, indicator types',
    sql: `
      CREATE TABLE datasets (
        uuid TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        is_public INTEGER NOT NULL DEFAULT 0,
        is_analytics INTEGER NOT NULL DEFAULT 0,
        is_default INTEGER NOT NULL DEFAULT 0,
        indicator_write_mode TEXT NOT NULL DEFAULT 'full',
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        deleted_at INTEGER
      );
      CREATE UNIQUE INDEX datasets_live_name ON datasets(name) WHERE deleted_at IS NULL;
      CREATE TABLE shards (
        id TEXT PRIMARY KEY,
        dataset_id TEXT NOT NULL REFERENCES datasets(uuid),
        ordinal INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (dataset_id, ordinal)
      );
      CREATE TABLE tags (
        uuid TEXT PRIMARY KEY,
        value TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE indicator_types (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
      );
    `,
  },
];
