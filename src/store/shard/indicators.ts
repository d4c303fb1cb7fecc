import type { Op } from '../../domain/events/search.ts';
import { eventKey } from '../../domain/ids.ts';
import { textTest } from '../search/compile.ts';
import type { Sql } from '../sql.ts';

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

function compileFilter(f: IndicatorFilter): { where: string[]; params: unknown[] } {
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
    where.push(
      'i.id IN (SELECT indicator_id FROM event_indicators WHERE event_id IN (SELECT value FROM json_each(?)))',
    );
  }
  if (f.tags) {
    params.push(JSON.stringify(f.tags));
    where.push(`i.id IN (SELECT ei.indicator_id FROM event_tags et JOIN event_indicators ei ON ei.event_id = et.event_id
      WHERE et.tag_id IN (SELECT id FROM tag_names WHERE name IN (SELECT value FROM json_each(?))))`);
  }
  return { where, params };
}

/** Indicator records of one shard and their links to events (runs on the shard's connection). */
export class ShardIndicators {
  constructor(private readonly sql: Sql) {}

  list(filter: IndicatorFilter, page: IndicatorPage): IndicatorRecord[] {
    const { where, params } = compileFilter(filter);
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
    const { where, params } = compileFilter(filter);
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
    const { where, params } = compileFilter(filter);
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
    return this.sql
      .all<{ uuid: string; date_ms: number }>(
        `SELECT e.uuid, e.date_ms FROM event_indicators ei JOIN events e ON e.id = ei.event_id
         WHERE ei.indicator_id = ? ORDER BY e.date_ms DESC, e.id DESC LIMIT ?`,
        [indicatorId, limit],
      )
      .map((r) => ({ uuid: r.uuid, dateMs: r.date_ms }));
  }

  /** Distinct tag names of the events linked to an indicator. */
  tags(indicatorId: number): string[] {
    return this.sql
      .all<{ name: string }>(
        `SELECT DISTINCT j.value AS name FROM event_indicators ei JOIN events e ON e.id = ei.event_id, json_each(e.tags) j
         WHERE ei.indicator_id = ? ORDER BY name LIMIT 200`,
        [indicatorId],
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
    return this.sql
      .all<{ name: string }>(
        'SELECT name FROM tag_names t WHERE EXISTS (SELECT 1 FROM event_tags et WHERE et.tag_id = t.id) ORDER BY name',
      )
      .map((r) => r.name);
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
    const { where, params } = compileFilter(filter);
    const cols = by.map((b) => (b === 'value' ? 'i.value' : 'i.type'));
    let from = 'indicators i';
    if (measure === 'relationships') {
      from =
        'indicators i JOIN event_indicators ei ON ei.indicator_id = i.id JOIN events e ON e.id = ei.event_id';
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
