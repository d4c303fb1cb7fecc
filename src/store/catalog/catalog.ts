import { accountMigrations } from '../migrations/account.ts';
import { migrate } from '../migrations/run.ts';
import type { Sql } from '../sql.ts';
import { EventCategoryStore } from './event-categories.ts';
import { TagStore } from './tags.ts';

export type IndicatorWriteMode = 'read_only' | 'create_only' | 'full';

/** A dataset as the account catalog stores it. */
export interface DatasetRecord {
  uuid: string;
  name: string;
  isPublic: boolean;
  isAnalytics: boolean;
  isDefault: boolean;
  indicatorWriteMode: IndicatorWriteMode;
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
}

interface DatasetRow {
  uuid: string;
  name: string;
  is_public: number;
  is_analytics: number;
  is_default: number;
  indicator_write_mode: IndicatorWriteMode;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

const toDataset = (r: DatasetRow): DatasetRecord => ({
  uuid: r.uuid,
  name: r.name,
  isPublic: r.is_public === 1,
  isAnalytics: r.is_analytics === 1,
  isDefault: r.is_default === 1,
  indicatorWriteMode: r.indicator_write_mode,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  deletedAt: r.deleted_at,
});

export interface ShardRecord {
  id: string;
  datasetId: string;
  ordinal: number;
}

/** Indicator types with fixed, documented ids; other types get ids from 1000 up, per account. */
export const KNOWN_INDICATOR_TYPES: Readonly<Record<string, number>> = {
  ip: 1,
  ipv4: 2,
  ipv6: 3,
  url: 4,
  domain: 5,
  'url-path': 6,
  md5: 7,
  sha1: 8,
  sha256: 9,
  ja3: 10,
  ja4: 11,
  email: 12,
  asn: 13,
  cidr: 14,
  hash: 15,
  filename: 16,
  'user-agent': 17,
  hostname: 18,
};

/** Everything an account owns apart from events: datasets, shard registry, tags, type ids. */
export class Catalog {
  private readonly typeIds = new Map<string, number>(Object.entries(KNOWN_INDICATOR_TYPES));
  /** Tags (the source of truth event ingest also writes to) and tag categories. */
  readonly tags: TagStore;
  /** Event categories of the account. */
  readonly eventCategories: EventCategoryStore;

  constructor(private readonly sql: Sql) {
    migrate(sql, accountMigrations);
    this.tags = new TagStore(sql);
    this.eventCategories = new EventCategoryStore(sql);
    for (const r of sql.all<{ id: number; name: string }>('SELECT id, name FROM indicator_types')) {
      this.typeIds.set(r.name, r.id);
    }
  }

  transaction<T>(fn: () => T): T {
    return this.sql.transaction(fn);
  }

  listDatasets(includeDeleted: boolean): DatasetRecord[] {
    const rows = this.sql.all<DatasetRow>(
      `SELECT * FROM datasets ${includeDeleted ? '' : 'WHERE deleted_at IS NULL'} ORDER BY created_at, uuid`,
    );
    return rows.map(toDataset);
  }

  getDataset(uuid: string): DatasetRecord | undefined {
    const row = this.sql.one<DatasetRow>('SELECT * FROM datasets WHERE uuid = ?', [uuid]);
    return row ? toDataset(row) : undefined;
  }

  datasetByName(name: string): DatasetRecord | undefined {
    const row = this.sql.one<DatasetRow>('SELECT * FROM datasets WHERE name = ? AND deleted_at IS NULL', [
      name,
    ]);
    return row ? toDataset(row) : undefined;
  }

  defaultDataset(): DatasetRecord | undefined {
    const row = this.sql.one<DatasetRow>(
      'SELECT * FROM datasets WHERE is_default = 1 AND deleted_at IS NULL',
    );
    return row ? toDataset(row) : undefined;
  }

  insertDataset(d: DatasetRecord): void {
    this.sql.run(
      `INSERT INTO datasets (uuid, name, is_public, is_analytics, is_default, indicator_write_mode, created_at,
         updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        d.uuid,
        d.name,
        d.isPublic ? 1 : 0,
        d.isAnalytics ? 1 : 0,
        d.isDefault ? 1 : 0,
        d.indicatorWriteMode,
        d.createdAt,
        d.updatedAt,
        d.deletedAt,
      ],
    );
  }

  updateDataset(uuid: string, fields: { name: string; isPublic: boolean }, now: number): void {
    this.sql.run('UPDATE datasets SET name = ?, is_public = ?, updated_at = ? WHERE uuid = ?', [
      fields.name,
      fields.isPublic ? 1 : 0,
      now,
      uuid,
    ]);
  }

  undeleteDataset(uuid: string, now: number): void {
    this.sql.run('UPDATE datasets SET deleted_at = NULL, updated_at = ? WHERE uuid = ?', [now, uuid]);
  }

  /** Soft-deleted datasets deleted before a moment (due for purging). */
  datasetsDeletedBefore(ms: number): DatasetRecord[] {
    return this.sql
      .all<DatasetRow>('SELECT * FROM datasets WHERE deleted_at IS NOT NULL AND deleted_at < ?', [ms])
      .map(toDataset);
  }

  /** Forgets a dataset, its shard registry and the links of its events (the shard files are dropped apart). */
  forgetDataset(uuid: string): void {
    this.sql.transaction(() => {
      this.sql.run('DELETE FROM event_references WHERE from_dataset = ? OR to_dataset = ?', [uuid, uuid]);
      this.sql.run('DELETE FROM event_relationships WHERE parent_dataset = ? OR child_dataset = ?', [
        uuid,
        uuid,
      ]);
      this.sql.run('DELETE FROM shards WHERE dataset_id = ?', [uuid]);
      this.sql.run('DELETE FROM datasets WHERE uuid = ?', [uuid]);
    });
  }

  softDeleteDataset(uuid: string, now: number): void {
    this.sql.run('UPDATE datasets SET deleted_at = ?, updated_at = ? WHERE uuid = ?', [now, now, uuid]);
  }

  shardsOf(datasetId: string): ShardRecord[] {
    return this.sql
      .all<{ id: string; dataset_id: string; ordinal: number }>(
        'SELECT id, dataset_id, ordinal FROM shards WHERE dataset_id = ? ORDER BY ordinal',
        [datasetId],
      )
      .map((r) => ({ id: r.id, datasetId: r.dataset_id, ordinal: r.ordinal }));
  }

  addShard(shard: ShardRecord, now: number): void {
    this.sql.run('INSERT INTO shards (id, dataset_id, ordinal, created_at) VALUES (?, ?, ?, ?)', [
      shard.id,
      shard.datasetId,
      shard.ordinal,
      now,
    ]);
  }

  /** Creates the tags that do not exist yet; answers how many were new. */
  ensureTags(values: readonly string[], newId: () => string, now: number): number {
    let created = 0;
    // One look-up for the whole list: a bulk request names hundreds of tags that nearly all exist.
    const existing = new Set(
      this.sql
        .all<{ value: string }>('SELECT value FROM tags WHERE value IN (SELECT value FROM json_each(?))', [
          JSON.stringify(values),
        ])
        .map((r) => r.value),
    );
    const missing = values.filter((v) => !existing.has(v));
    if (missing.length === 0) return 0;
    this.sql.transaction(() => {
      for (const value of missing) {
        created += this.sql.run(
          'INSERT INTO tags (uuid, value, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (value) DO NOTHING',
          [newId(), value, now, now],
        ).changes;
      }
    });
    return created;
  }

  /** A stable number for an indicator type, assigned on first sight. */
  indicatorTypeId(type: string): number {
    if (!type) return 0;
    let id = this.typeIds.get(type);
    if (id === undefined) {
      const max = this.sql.one<{ m: number | null }>('SELECT max(id) AS m FROM indicator_types')?.m ?? 999;
      id = Math.max(max, 999) + 1;
      this.sql.run('INSERT INTO indicator_types (id, name) VALUES (?, ?)', [id, type]);
      this.typeIds.set(type, id);
    }
    return id;
  }
}
