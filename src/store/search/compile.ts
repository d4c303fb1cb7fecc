import type { SortField, SortValue } from '../../domain/events/model.ts';
import type { Condition, Op } from '../../domain/events/search.ts';
import { eventKey } from '../../domain/ids.ts';

/** Conditions compiled for one shard: tests on `events e`, parameterised, never spliced values. */
export interface CompiledSearch {
  where: string[];
  params: unknown[];
}

/** Column expression each sortable field sorts by. */
export const SORT_COLUMNS: Record<SortField, string> = {
  date: 'e.date_ms',
  createdAt: 'e.created_ms',
  attacker: 'e.attacker',
  attackerCountry: 'e.attacker_country',
  category: 'e.category',
  event: 'e.event',
  indicator: 'e.indicator',
  indicatorType: 'e.indicator_type',
  insight: "coalesce(e.insight, '')",
  killChain: 'e.kill_chain',
  targetCountry: 'e.target_country',
  targetIndustry: 'e.target_industry',
  tlp: 'e.tlp',
  uuid: 'e.id',
  hasChildren: 'e.has_children',
};

const STRING_COLUMNS: Record<string, string> = {
  attacker: 'e.attacker',
  attackerCountry: 'e.attacker_country',
  category: 'e.category',
  event: 'e.event',
  targetCountry: 'e.target_country',
  targetIndustry: 'e.target_industry',
  tlp: 'e.tlp',
  uuid: 'e.uuid',
};

const ARRAY_COLUMNS: Record<string, string> = { mitreAttack: 'e.mitre_attack', mitreCapec: 'e.mitre_capec' };

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (m) => `\\${m}`);
}

/** SQL test of `expr` against one value for a text op; pushes its parameters. Shared by every search. */
export function textTest(expr: string, op: Op, value: string, params: unknown[]): string {
  switch (op) {
    case 'equals':
      params.push(value);
      return `${expr} = ?`;
    case 'not':
      params.push(value);
      return `${expr} <> ?`;
    case 'gt':
      params.push(value);
      return `${expr} > ?`;
    case 'gte':
      params.push(value);
      return `${expr} >= ?`;
    case 'lt':
      params.push(value);
      return `${expr} < ?`;
    case 'lte':
      params.push(value);
      return `${expr} <= ?`;
    case 'like':
      params.push(value);
      return `${expr} LIKE ?`;
    case 'contains':
      params.push(`%${escapeLike(value)}%`);
      return `${expr} LIKE ? ESCAPE '\\'`;
    case 'startsWith':
      params.push(`${escapeLike(value)}%`);
      return `${expr} LIKE ? ESCAPE '\\'`;
    case 'endsWith':
      params.push(`%${escapeLike(value)}`);
      return `${expr} LIKE ? ESCAPE '\\'`;
    case 'find': {
      // Outside the full-text columns, `find` means every word occurs, case-insensitively.
      const words = value.split(/\s+/).filter(Boolean);
      return `(${words
        .map((w) => {
          params.push(`%${escapeLike(w)}%`);
          return `${expr} LIKE ? ESCAPE '\\'`;
        })
        .join(' AND ')})`;
    }
    case 'in': {
      throw new Error('in is compiled by the caller');
    }
  }
}

/**
 * FTS5 query text for `find`: every word, quoted, must occur. Words are runs of letters and
 * digits, each one token of the unicode61 tokenizer (which splits at `_` too), so no quoted
 * word is a phrase: the index keeps no positions (`detail=none`).
 */
export function ftsQuery(value: string): string {
  return value
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .map((w) => `"${w.replace(/"/g, '""')}"`)
    .join(' ');
}

function numberTest(expr: string, op: Op, value: number | number[], params: unknown[]): string {
  if (op === 'in') {
    const list = value as number[];
    params.push(...list);
    return `${expr} IN (${list.map(() => '?').join(', ')})`;
  }
  const sym = { equals: '=', not: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' }[op as 'equals'];
  params.push(value);
  return `${expr} ${sym} ?`;
}

/** Test "the event has an element matching (op, value)" over its JSON list of tags or indicators. */
function memberTest(field: string, op: Op, value: string, params: unknown[]): string {
  if (field in ARRAY_COLUMNS || field === 'tags') {
    const column = field === 'tags' ? 'e.tags' : (ARRAY_COLUMNS[field] as string);
    return `EXISTS (SELECT 1 FROM json_each(${column}) j WHERE ${textTest('j.value', op, value, params)})`;
  }
  const path = field === 'indicator' ? "j.value ->> 'value'" : "j.value ->> 'type'";
  return `EXISTS (SELECT 1 FROM json_each(e.indicators) j WHERE ${textTest(path, op, value, params)})`;
}

/** Compiles validated conditions into tests on the events row (`events e`). */
export function compileSearch(conditions: readonly Condition[]): CompiledSearch {
  const where: string[] = [];
  const params: unknown[] = [];
  for (const c of conditions) {
    if (c.kind === 'number') {
      where.push(
        numberTest(c.field === 'killChain' ? 'e.kill_chain' : 'e.has_children', c.op, c.value, params),
      );
      continue;
    }
    if (c.kind === 'date') {
      where.push(numberTest(c.field === 'date' ? 'e.date_ms' : 'e.created_ms', c.op, c.value, params));
      continue;
    }
    if (c.op === 'find' && (c.field === 'event' || c.field === 'indicator')) {
      params.push(ftsQuery(c.value as string));
      where.push('e.id IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)');
      continue;
    }
    const values = Array.isArray(c.value) ? c.value : [c.value];
    if (c.kind === 'array' || c.field === 'indicator' || c.field === 'indicatorType') {
      // equals/in: has such an element; not: has no such element; other ops: has a matching element.
      const negate = c.op === 'not';
      const op: Op = c.op === 'in' || c.op === 'not' ? 'equals' : c.op;
      const parts = values.map((v) => memberTest(c.field, op, v, params));
      const any = parts.length === 1 ? (parts[0] as string) : `(${parts.join(' OR ')})`;
      where.push(negate ? `NOT ${any}` : any);
      continue;
    }
    if (c.field === 'uuid' && (c.op === 'equals' || c.op === 'in' || c.op === 'not')) {
      // uuids map onto the integer key, so these are primary-key look-ups. The key leaves out the
      // uuid's random tail, so the uuid itself is compared too: a near-miss must not match.
      const lowered = values.map((v) => v.toLowerCase());
      const keys = lowered.map((v) => eventKey(v) ?? -1);
      if (c.op === 'in') {
        params.push(...keys, ...lowered);
        const marks = keys.map(() => '?').join(', ');
        where.push(`(e.id IN (${marks}) AND e.uuid IN (${marks}))`);
      } else {
        params.push(keys[0], lowered[0]);
        where.push(c.op === 'equals' ? '(e.id = ? AND e.uuid = ?)' : 'NOT (e.id = ? AND e.uuid = ?)');
      }
      continue;
    }
    const column = STRING_COLUMNS[c.field] as string;
    if (c.op === 'in') {
      params.push(...values);
      where.push(`${column} IN (${values.map(() => '?').join(', ')})`);
      continue;
    }
    where.push(textTest(column, c.op, values[0] as string, params));
  }
  return { where, params };
}

/** ORDER BY and keyset pieces for a sort field. */
export function orderPieces(
  orderBy: SortField,
  order: 'asc' | 'desc',
): { sortExpr: string; idExpr: string; orderSql: string } {
  const dir = order === 'asc' ? 'ASC' : 'DESC';
  const sortExpr = SORT_COLUMNS[orderBy];
  if (orderBy === 'uuid') return { sortExpr, idExpr: 'e.id', orderSql: `e.id ${dir}` };
  return { sortExpr, idExpr: 'e.id', orderSql: `${sortExpr} ${dir}, e.id ${dir}` };
}

/** Keyset condition "strictly after (value, id)" in the given direction. */
export function keysetCondition(
  pieces: { sortExpr: string; idExpr: string },
  order: 'asc' | 'desc',
  after: { value: SortValue; id: number },
  orderBy: SortField,
): { sql: string; params: unknown[] } {
  const cmp = order === 'asc' ? '>' : '<';
  if (orderBy === 'uuid') return { sql: `${pieces.idExpr} ${cmp} ?`, params: [after.id] };
  // The leading `sort >= value` (or `<=`) is implied by the OR, but SQLite only turns a plain
  // comparison into an index range: without it a deep cursor page scanned every row before it.
  return {
    sql: `(${pieces.sortExpr} ${cmp}= ? AND (${pieces.sortExpr} ${cmp} ? OR (${pieces.sortExpr} = ? AND ${pieces.idExpr} ${cmp} ?)))`,
    params: [after.value, after.value, after.value, after.id],
  };
}
