import type { SortField, SortValue } from '../../domain/events/model.ts';
import type { Condition, Op } from '../../domain/events/search.ts';
import { eventKey } from '../../domain/ids.ts';

/** A search compiled for one shard: parameterised SQL pieces, never spliced values. */
export interface CompiledSearch {
  /** FROM clause: `events e`, or a driving index joined to events. */
  from: string;
  /** True when the FROM clause drives from event_tags aliased `d` (ordered by date). */
  driven: boolean;
  where: string[];
  params: unknown[];
  /** Whether any condition needs the events row (so a count can skip the join). */
  needsEvents: boolean;
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

/** FTS5 query text for `find`: every word, quoted, must occur. */
export function ftsQuery(value: string): string {
  return value
    .split(/[^\p{L}\p{N}_]+/u)
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

/** Membership test "the event has an element matching (op, value)" through a link table or JSON list. */
function memberSubquery(field: string, op: Op, value: string, params: unknown[]): string {
  if (field === 'tags') {
    if (op === 'equals') {
      params.push(value);
      return 'SELECT et.event_id FROM event_tags et WHERE et.tag_id = (SELECT id FROM tag_names WHERE name = ?)';
    }
    if (op === 'find') {
      const words = value.split(/\s+/).filter(Boolean);
      const tests = words.map((w) => {
        params.push(`%${escapeLike(w)}%`);
        return "tn.name LIKE ? ESCAPE '\\'";
      });
      return `SELECT et.event_id FROM event_tags et WHERE et.tag_id IN (SELECT tn.id FROM tag_names tn WHERE ${tests.join(' AND ')})`;
    }
    const test = textTest('tn.name', op, value, params);
    return `SELECT et.event_id FROM event_tags et WHERE et.tag_id IN (SELECT tn.id FROM tag_names tn WHERE ${test})`;
  }
  if (field === 'indicator' || field === 'indicatorType') {
    const column = field === 'indicator' ? 'i.value' : 'i.type';
    const test =
      op === 'find' ? textTest(column, 'find', value, params) : textTest(column, op, value, params);
    return `SELECT ei.event_id FROM event_indicators ei WHERE ei.indicator_id IN (SELECT i.id FROM indicators i WHERE ${test})`;
  }
  throw new Error(`no member table for ${field}`);
}

/** Compiles validated conditions for one shard. */
export function compileSearch(conditions: readonly Condition[], orderBy: SortField): CompiledSearch {
  const where: string[] = [];
  const params: unknown[] = [];
  let from = 'events e';
  let driven = false;
  let needsEvents = false;
  const fromParams: unknown[] = [];

  // Fast path: ordered by date with a `tags equals` condition drives from the tag's date index,
  // so a page of a very common tag costs the same as a page of a rare one.
  const driverIndex =
    orderBy === 'date' ? conditions.findIndex((c) => c.field === 'tags' && c.op === 'equals') : -1;
  if (driverIndex >= 0) {
    const driver = conditions[driverIndex] as Condition;
    from = 'event_tags d CROSS JOIN events e ON e.id = d.event_id';
    driven = true;
    where.push('d.tag_id = (SELECT id FROM tag_names WHERE name = ?)');
    fromParams.push(driver.value);
  }

  conditions.forEach((c, i) => {
    if (i === driverIndex) return;
    needsEvents = true;
    if (c.kind === 'number') {
      where.push(
        numberTest(c.field === 'killChain' ? 'e.kill_chain' : 'e.has_children', c.op, c.value, params),
      );
      return;
    }
    if (c.kind === 'date') {
      where.push(numberTest(c.field === 'date' ? 'e.date_ms' : 'e.created_ms', c.op, c.value, params));
      return;
    }
    if (c.op === 'find' && (c.field === 'event' || c.field === 'indicator')) {
      params.push(ftsQuery(c.value as string));
      where.push('e.id IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)');
      return;
    }
    const values = Array.isArray(c.value) ? c.value : [c.value];
    if (c.kind === 'array' || c.field === 'indicator' || c.field === 'indicatorType') {
      // equals/in: has such an element; not: has no such element; other ops: has a matching element.
      const negate = c.op === 'not';
      const op: Op = c.op === 'in' || c.op === 'not' ? 'equals' : c.op;
      const parts = values.map((v) => {
        if (c.field in ARRAY_COLUMNS) {
          const test = textTest('j.value', op, v, params);
          return `EXISTS (SELECT 1 FROM json_each(${ARRAY_COLUMNS[c.field]}) j WHERE ${test})`;
        }
        return `e.id IN (${memberSubquery(c.field, op, v, params)})`;
      });
      const any = parts.length === 1 ? (parts[0] as string) : `(${parts.join(' OR ')})`;
      where.push(negate ? `NOT ${any}` : any);
      return;
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
      return;
    }
    const column = STRING_COLUMNS[c.field] as string;
    if (c.op === 'in') {
      params.push(...values);
      where.push(`${column} IN (${values.map(() => '?').join(', ')})`);
      return;
    }
    where.push(textTest(column, c.op, values[0] as string, params));
  });

  return { from, driven, where, params: [...fromParams, ...params], needsEvents };
}

/** ORDER BY and keyset pieces for a sort field, honouring a driving index. */
export function orderPieces(
  compiled: CompiledSearch,
  orderBy: SortField,
  order: 'asc' | 'desc',
): { sortExpr: string; idExpr: string; orderSql: string } {
  const dir = order === 'asc' ? 'ASC' : 'DESC';
  if (compiled.driven) {
    return { sortExpr: 'd.date_ms', idExpr: 'd.event_id', orderSql: `d.date_ms ${dir}, d.event_id ${dir}` };
  }
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
