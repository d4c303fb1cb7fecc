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
  {
    version: 2,
    name: 'event references and relationships',
    sql: `
      CREATE TABLE event_references (
        from_uuid TEXT NOT NULL,
        from_dataset TEXT NOT NULL,
        to_uuid TEXT NOT NULL,
        to_dataset TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (from_uuid, to_uuid)
      ) WITHOUT ROWID;
      CREATE INDEX event_references_to ON event_references(to_uuid);
      CREATE TABLE event_relationships (
        parent_uuid TEXT NOT NULL,
        parent_dataset TEXT NOT NULL,
        child_uuid TEXT NOT NULL,
        child_dataset TEXT NOT NULL,
        type TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (parent_uuid, child_uuid, type)
      ) WITHOUT ROWID;
      CREATE INDEX event_relationships_child ON event_relationships(child_uuid);
    `,
  },
];
