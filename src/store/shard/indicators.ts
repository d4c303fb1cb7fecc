import type { Op } from '../../domain/events/search.ts';
import { eventKey } from '../../domain/ids.ts';
import { textTest } from '../search/compile.ts';
import type { Sql } from '../sql.ts';
import type { Shard } from './shard.ts';

/** One indicator record of a shard. */
export interface IndicatorRecord {
  id: number;
  uuid: string;
  type: string;
  value: string;
  createdMs: number;
  updatedMs: number;
}

interface IndicatorRow {
  id: number;
  uuid: string;
  type: string;
  value: string;
  created_ms: number;
  updated_ms: number;
}

const toIndicator = (r: IndicatorRow): IndicatorRecord => ({
  id: r.id,
  uuid: r.uuid,
  type: r.type,
  value: r.value,
  createdMs: r.created_ms,
  updatedMs: r.updated_ms,
});

/** A condition on an indicator field, validated by the domain. */
export interface IndicatorCondition {
  field: 'value' | 'indicatorType' | 'uuid';
  op: Op;
  value: string | string[];
}

/** Filters of the indicator list (E54/E58/E69), all AND-ed. */
export interface IndicatorFilter {
  conditions?: readonly IndicatorCondition[];
  indicatorType?: string | undefined;
  /** Substring of the value. */
  name?: string | undefined;
  createdAfterMs?: number | undefined;
  createdBeforeMs?: number | undefined;
  /** Linked to at least one of these events. */
  relatedEvents?: readonly string[] | undefined;
  /** Linked to an event carrying at least one of these tags. */
  tags?: readonly string[] | undefined;
}

/** Page request: newest first, ties by uuid ascending; keyset after (createdMs, uuid). */
export interface IndicatorPage {
  limit: number;
  offset?: number;
  after?: { createdMs: number; uuid: string };
}

const COLUMNS: Record<IndicatorCondition['field'], string> = {
  value: 'i.value',
  indicatorType: 'i.type',
  uuid: 'i.uuid',
};

/** Ids of indicator rows carried by the events whose ids are in a JSON array (parameter `?`). */
const INDICATORS_OF_EVENTS = `i.id IN (SELECT x.id FROM events e, json_each(e.indicators) j
  JOIN indicators x ON x.value = j.value ->> 'value' AND x.type = j.value ->> 'type'
  WHERE e.id IN (SELECT value FROM json_each(?)))`;

function compileFilter(f: IndicatorFilter, shard: Shard): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  for (const c of f.conditions ?? []) {
    const column = COLUMNS[c.field];
    if (c.op === 'in') {
      const list = Array.isArray(c.value) ? c.value : [c.value];
      params.push(...list);
      where.push(`${column} IN (${list.map(() => '?').join(', ')})`);
    } else {
      where.push(textTest(column, c.op, Array.isArray(c.value) ? (c.value[0] ?? '') : c.value, params));
    }
  }
  if (f.indicatorType !== undefined) {
    where.push('i.type = ?');
    params.push(f.indicatorType);
  }
  if (f.name !== undefined) where.push(textTest('i.value', 'contains', f.name, params));
  if (f.createdAfterMs !== undefined) {
    where.push('i.created_ms >= ?');
    params.push(f.createdAfterMs);
  }
  if (f.createdBeforeMs !== undefined) {
    where.push('i.created_ms <= ?');
    params.push(f.createdBeforeMs);
  }
  if (f.relatedEvents) {
    const keys = f.relatedEvents.map((u) => eventKey(u) ?? -1);
    params.push(JSON.stringify(keys));
    where.push(INDICATORS_OF_EVENTS);
  }
  if (f.tags) {
    params.push(shard.idsWithTags(f.tags));
    where.push(INDICATORS_OF_EVENTS);
  }
  return { where, params };
}

/** Indicator records of one shard and their links to events (runs on the shard's connection). */
export class ShardIndicators {
  constructor(
    private readonly sql: Sql,
    /** The shard on the same connection: its postings link indicators to events. */
    private readonly shard: Shard,
  ) {}

  list(filter: IndicatorFilter, page: IndicatorPage): IndicatorRecord[] {
    const { where, params } = compileFilter(filter, this.shard);
    if (page.after) {
      where.push('(i.created_ms < ? OR (i.created_ms = ? AND i.uuid > ?))');
      params.push(page.after.createdMs, page.after.createdMs, page.after.uuid);
    }
    params.push(page.limit, page.offset ?? 0);
    return this.sql
      .all<IndicatorRow>(
        `SELECT i.* FROM indicators i ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY i.created_ms DESC, i.uuid ASC LIMIT ? OFFSET ?`,
        params,
      )
      .map(toIndicator);
  }

  /** Matching indicators; `primaryOnly` counts only those this shard saw first in its dataset. */
  count(filter: IndicatorFilter, primaryOnly = false): number {
    const { where, params } = compileFilter(filter, this.shard);
    if (primaryOnly) where.push('i.is_primary = 1');
    return (
      this.sql.one<{ n: number }>(
        `SELECT count(*) AS n FROM indicators i ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`,
        params,
      )?.n ?? 0
    );
  }

  /** The uuids of every matching indicator (to count distinct indicators across shards). */
  uuids(filter: IndicatorFilter): string[] {
    const { where, params } = compileFilter(filter, this.shard);
    return this.sql
      .all<{ uuid: string }>(
        `SELECT i.uuid FROM indicators i ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`,
        params,
      )
      .map((r) => r.uuid);
  }

  byUuid(uuid: string): IndicatorRecord | undefined {
    const row = this.sql.one<IndicatorRow>('SELECT * FROM indicators WHERE uuid = ?', [uuid]);
    return row ? toIndicator(row) : undefined;
  }

  /** Events linked to an indicator, newest first; `limit` < 0 means all. */
  events(indicatorId: number, limit: number): { uuid: string; dateMs: number }[] {
    const row = this.row(indicatorId);
    return row ? this.shard.indicatorEvents(row.type, row.value, limit) : [];
  }

  private row(id: number): { type: string; value: string } | undefined {
    return this.sql.one<{ type: string; value: string }>('SELECT type, value FROM indicators WHERE id = ?', [
      id,
    ]);
  }

  /** Distinct tag names of the events linked to an indicator. */
  tags(indicatorId: number): string[] {
    const row = this.row(indicatorId);
    if (!row) return [];
    return this.sql
      .all<{ name: string }>(
        `SELECT DISTINCT j.value AS name FROM events e, json_each(e.tags) j
         WHERE e.id IN (SELECT value FROM json_each(?)) ORDER BY name LIMIT 200`,
        [this.shard.idsWithIndicator(row.type, row.value)],
      )
      .map((r) => r.name);
  }

  /** Distinct indicator types present. */
  types(): string[] {
    return this.sql
      .all<{ type: string }>('SELECT DISTINCT type FROM indicators ORDER BY type')
      .map((r) => r.type);
  }

  /** Every tag name used by an event of this shard. */
  tagNames(): string[] {
    return this.shard.tagNames();
  }

  /**
   * Group counts for the indicator aggregate (E55): per (type and/or value), counting indicator
   * rows (`indicators`) or event links (`relationships`).
   */
  aggregate(
    by: readonly ('indicatorType' | 'value')[],
    measure: 'indicators' | 'relationships',
    filter: IndicatorFilter & {
      eventCreatedAfterMs?: number | undefined;
      eventCreatedBeforeMs?: number | undefined;
    },
  ): { key: string[]; count: number }[] {
    const { where, params } = compileFilter(filter, this.shard);
    const cols = by.map((b) => (b === 'value' ? 'i.value' : 'i.type'));
    let from = 'indicators i';
    if (measure === 'relationships') {
      // One row per (indicator, event carrying it).
      from = `events e, json_each(e.indicators) j
        JOIN indicators i ON i.value = j.value ->> 'value' AND i.type = j.value ->> 'type'`;
      if (filter.eventCreatedAfterMs !== undefined) {
        where.push('e.created_ms >= ?');
        params.push(filter.eventCreatedAfterMs);
      }
      if (filter.eventCreatedBeforeMs !== undefined) {
        where.push('e.created_ms <= ?');
        params.push(filter.eventCreatedBeforeMs);
      }
    }
    const rows = this.sql.all<Record<string, string | number>>(
      `SELECT ${cols.map((c, k) => `${c} AS k${k}`).join(', ')}, count(*) AS n FROM ${from}
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} GROUP BY ${cols.join(', ')}`,
      params,
    );
    return rows.map((r) => ({ key: cols.map((_, k) => String(r[`k${k}`])), count: Number(r.n) }));
  }
}
