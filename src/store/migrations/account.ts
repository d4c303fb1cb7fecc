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
  {
    version: 3,
    name: 'tag documents, tag categories, event categories',
    sql: `
      ALTER TABLE tags ADD COLUMN category_uuid TEXT;
      ALTER TABLE tags ADD COLUMN tlp TEXT;
      ALTER TABLE tags ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE tags ADD COLUMN doc TEXT NOT NULL DEFAULT '{}';
      CREATE INDEX tags_category ON tags(category_uuid);
      CREATE TABLE tag_categories (
        uuid TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        description TEXT,
        schema TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX tag_categories_name ON tag_categories(name COLLATE NOCASE);
      CREATE TABLE event_categories (
        uuid TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        shortname TEXT,
        kill_chain INTEGER NOT NULL,
        mitre_attack TEXT NOT NULL DEFAULT '[]',
        mitre_capec TEXT NOT NULL DEFAULT '[]',
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX event_categories_name ON event_categories(name COLLATE NOCASE);
    `,
  },
  {
    version: 4,
    name: 'saved queries, query alerts, alert outbox',
    sql: `
      CREATE TABLE saved_queries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        query_json TEXT NOT NULL,
        alert_enabled INTEGER NOT NULL,
        alert_rollup_enabled INTEGER NOT NULL,
        rule_enabled INTEGER NOT NULL,
        rule_scope TEXT,
        user_email TEXT NOT NULL,
        custom_threat_feed_id INTEGER,
        rule_list_id TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX saved_queries_name ON saved_queries(name);
      CREATE TABLE query_alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        query_id INTEGER NOT NULL REFERENCES saved_queries(id) ON DELETE CASCADE,
        notification_type TEXT NOT NULL,
        frequency TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        webhook_url TEXT,
        webhook_secret TEXT,
        recipient TEXT,
        user_email TEXT NOT NULL,
        mark_created_ms INTEGER NOT NULL,
        mark_uuid TEXT NOT NULL,
        next_run_at INTEGER NOT NULL,
        last_sent_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX query_alerts_query ON query_alerts(query_id);
      CREATE TABLE alert_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        alert_id INTEGER NOT NULL REFERENCES query_alerts(id) ON DELETE CASCADE,
        idempotency_key TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        event_uuids TEXT NOT NULL,
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        next_attempt_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        delivered_at INTEGER
      );
      CREATE INDEX alert_outbox_alert ON alert_outbox(alert_id, id);
      CREATE INDEX alert_outbox_pending ON alert_outbox(status, next_attempt_at) WHERE status = 'pending';
    `,
  },
];
