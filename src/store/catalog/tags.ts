import type { Sql } from '../sql.ts';

/** A tag as account.db stores it. `doc` holds every field that has no column of its own. */
export interface TagRecord {
  uuid: string;
  value: string;
  categoryUuid: string | null;
  /** Name of the linked category, joined on read (absent on write). */
  categoryName?: string | null;
  tlp: string | null;
  version: number;
  doc: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

interface TagRow {
  uuid: string;
  value: string;
  category_uuid: string | null;
  category_name: string | null;
  tlp: string | null;
  version: number;
  doc: string;
  created_at: number;
  updated_at: number;
}

const toTag = (r: TagRow): TagRecord => ({
  uuid: r.uuid,
  value: r.value,
  categoryUuid: r.category_uuid,
  categoryName: r.category_name,
  tlp: r.tlp,
  version: r.version,
  doc: JSON.parse(r.doc) as Record<string, unknown>,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** A tag category as stored; `schema` is the parsed FieldDefinition list, or null. */
export interface TagCategoryRecord {
  uuid: string;
  name: string;
  description: string | null;
  schema: unknown[] | null;
  createdAt: number;
  updatedAt: number;
}

interface TagCategoryRow {
  uuid: string;
  name: string;
  description: string | null;
  schema: string | null;
  created_at: number;
  updated_at: number;
}

const toTagCategory = (r: TagCategoryRow): TagCategoryRecord => ({
  uuid: r.uuid,
  name: r.name,
  description: r.description,
  schema: r.schema === null ? null : (JSON.parse(r.schema) as unknown[]),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Operators of tag filters (the E54 set). */
export type TagFilterOp =
  | 'equals'
  | 'not'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte'
  | 'like'
  | 'contains'
  | 'startsWith'
  | 'endsWith'
  | 'find'
  | 'in';

type FieldSql = { type: 'text' | 'number'; expr: string } | { type: 'list'; path: string; member?: string };

const docText = (path: string): FieldSql => ({ type: 'text', expr: `json_extract(t.doc, '${path}')` });

/** Fields a tag filter may name, and where each lives. `properties.<key>` is handled apart. */
const TAG_FIELDS: Readonly<Record<string, FieldSql>> = {
  uuid: { type: 'text', expr: 'lower(t.uuid)' },
  value: { type: 'text', expr: 't.value' },
  categoryName: { type: 'text', expr: 'c.name' },
  tlp: { type: 'text', expr: 't.tlp' },
  description: docText('$.description'),
  dateOfDiscovery: docText('$.dateOfDiscovery'),
  lastSeen: docText('$.lastSeen'),
  actorCategory: docText('$.actorCategory.value'),
  motive: docText('$.motive.value'),
  attributionOrganization: docText('$.attributionOrganization.value'),
  originCountryISO: docText('$.originCountryISO.value'),
  opsecLevel: docText('$.opsecLevel.value'),
  sophisticationLevel: docText('$.sophisticationLevel.value'),
  activeDuration: docText('$.activeDuration.value'),
  confidence: { type: 'number', expr: "json_extract(t.doc, '$.confidence')" },
  priority: { type: 'number', expr: "json_extract(t.doc, '$.priority.value')" },
  aliases: { type: 'list', path: '$.aliases', member: '$.value' },
  externalReferences: { type: 'list', path: '$.externalReferences', member: '$.url' },
  aliasGroupNames: { type: 'list', path: '$.aliasGroupNames' },
};

/** The first-class filter fields and whether their values are numbers. */
export const TAG_FILTER_FIELDS: Readonly<Record<string, 'text' | 'number'>> = Object.fromEntries(
  Object.entries(TAG_FIELDS).map(([k, f]) => [k, f.type === 'number' ? 'number' : 'text']),
);

/** A validated tag filter. `field` is a key of TAG_FILTER_FIELDS or `properties.<key>[.tlp|.confidence]`. */
export interface TagFilter {
  field: string;
  op: TagFilterOp;
  /** Text values, already lower-cased for uuid; an array only for `in`. */
  value: string | number | (string | number)[];
}

/** A search over the tags of the account. */
export interface TagQuery {
  search?: string | undefined;
  categoryUuid?: string | undefined;
  filters: readonly TagFilter[];
  limit: number;
  offset: number;
}

const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (m) => `\\${m}`);
const isNumeric = (v: string | number): boolean =>
  typeof v === 'number' || (/^-?\d+(\.\d+)?$/.test(v.trim()) && Number.isFinite(Number(v)));

/** Builds `<expr> <op> ?` for one comparison, pushing its parameters. */
function compare(expr: string, op: TagFilterOp, value: TagFilter['value'], params: unknown[]): string {
  const values = Array.isArray(value) ? value : [value];
  const first = values[0] ?? '';
  switch (op) {
    case 'equals':
    case 'in':
    case 'not': {
      // A number given as text (query strings carry text) matches a stored number too.
      const candidates: unknown[] = [];
      for (const v of values) {
        candidates.push(typeof v === 'number' ? v : String(v));
        if (typeof v === 'string' && isNumeric(v)) candidates.push(Number(v));
        if (typeof v === 'number') candidates.push(String(v));
      }
      params.push(...candidates);
      const list = `(${candidates.map(() => '?').join(', ')})`;
      return op === 'not' ? `(${expr} IS NULL OR ${expr} NOT IN ${list})` : `${expr} IN ${list}`;
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const sym = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[op];
      if (isNumeric(first)) {
        params.push(Number(first));
        return `(typeof(${expr}) IN ('integer', 'real') AND ${expr} ${sym} ?)`;
      }
      params.push(String(first));
      return `(typeof(${expr}) = 'text' AND ${expr} ${sym} ?)`;
    }
    case 'like':
      params.push(String(first));
      return `CAST(${expr} AS TEXT) LIKE ?`;
    case 'contains':
    case 'find':
      params.push(String(first).toLowerCase());
      return `instr(lower(CAST(${expr} AS TEXT)), ?) > 0`;
    case 'startsWith':
      params.push(`${escapeLike(String(first))}%`);
      return `CAST(${expr} AS TEXT) LIKE ? ESCAPE '\\'`;
    case 'endsWith':
      params.push(`%${escapeLike(String(first))}`);
      return `CAST(${expr} AS TEXT) LIKE ? ESCAPE '\\'`;
  }
}

/** Property keys a filter may name: spliced into a JSON path, so only these characters. */
export const PROPERTY_KEY_PATTERN = /^[A-Za-z0-9_ -]{1,128}$/;

function compileFilter(f: TagFilter, params: unknown[]): string {
  if (f.field.startsWith('properties.')) {
    let key = f.field.slice('properties.'.length);
    const sub = /\.(tlp|confidence)$/.exec(key)?.[1];
    if (sub) key = key.slice(0, -(sub.length + 1));
    if (!PROPERTY_KEY_PATTERN.test(key)) throw new Error(`invalid property key ${JSON.stringify(key)}`);
    const path = `$.properties."${key}"`;
    if (sub) return compare(`json_extract(t.doc, '${path}.${sub}')`, f.op, f.value, params);
    // Matches the raw value or the value of an annotated {value, confidence, tlp}; each array element counts.
    const cond = compare('j.value', f.op === 'not' ? 'equals' : f.op, f.value, params);
    const exists = `EXISTS (SELECT 1 FROM json_each(t.doc, CASE json_type(t.doc, '${path}') WHEN 'object'
      THEN '${path}.value' ELSE '${path}' END) j WHERE j.type NOT IN ('object', 'array') AND ${cond})`;
    return f.op === 'not' ? `NOT ${exists}` : exists;
  }
  const field = TAG_FIELDS[f.field];
  if (!field) throw new Error(`unknown tag filter field ${f.field}`);
  if (field.type !== 'list') return compare(field.expr, f.op, f.value, params);
  const member = field.member ? `json_extract(j.value, '${field.member}')` : 'j.value';
  const cond = compare(member, f.op === 'not' ? 'equals' : f.op, f.value, params);
  const exists = `EXISTS (SELECT 1 FROM json_each(t.doc, '${field.path}') j WHERE ${cond})`;
  return f.op === 'not' ? `NOT ${exists}` : exists;
}

const TAG_SELECT = `SELECT t.uuid, t.value, t.category_uuid, c.name AS category_name, t.tlp, t.version, t.doc,
  t.created_at, t.updated_at FROM tags t LEFT JOIN tag_categories c ON c.uuid = t.category_uuid`;

/** Tags and tag categories of one account (account.db). */
export class TagStore {
  constructor(private readonly sql: Sql) {}

  getTag(uuid: string): TagRecord | undefined {
    const row = this.sql.one<TagRow>(`${TAG_SELECT} WHERE t.uuid = ?`, [uuid]);
    return row ? toTag(row) : undefined;
  }

  tagByValue(value: string): TagRecord | undefined {
    const row = this.sql.one<TagRow>(`${TAG_SELECT} WHERE t.value = ?`, [value]);
    return row ? toTag(row) : undefined;
  }

  /** Every tag whose value is in `values`, keyed by value. */
  tagsByValue(values: readonly string[]): Map<string, TagRecord> {
    const out = new Map<string, TagRecord>();
    for (let i = 0; i < values.length; i += 500) {
      const chunk = values.slice(i, i + 500);
      const rows = this.sql.all<TagRow>(
        `${TAG_SELECT} WHERE t.value IN (${chunk.map(() => '?').join(', ')})`,
        chunk,
      );
      for (const r of rows) out.set(r.value, toTag(r));
    }
    return out;
  }

  insertTag(t: TagRecord): void {
    this.sql.run(
      `INSERT INTO tags (uuid, value, category_uuid, tlp, version, doc, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [t.uuid, t.value, t.categoryUuid, t.tlp, t.version, JSON.stringify(t.doc), t.createdAt, t.updatedAt],
    );
  }

  updateTag(t: TagRecord): void {
    this.sql.run(
      `UPDATE tags SET value = ?, category_uuid = ?, tlp = ?, version = ?, doc = ?, updated_at = ?
       WHERE uuid = ?`,
      [t.value, t.categoryUuid, t.tlp, t.version, JSON.stringify(t.doc), t.updatedAt, t.uuid],
    );
  }

  deleteTag(uuid: string): boolean {
    return this.sql.run('DELETE FROM tags WHERE uuid = ?', [uuid]).changes > 0;
  }

  countTagsInCategory(categoryUuid: string): number {
    return (
      this.sql.one<{ n: number }>('SELECT count(*) AS n FROM tags WHERE category_uuid = ?', [categoryUuid])
        ?.n ?? 0
    );
  }

  /** One page of matching tags, ordered by value, and the number of matches. */
  searchTags(q: TagQuery): { tags: TagRecord[]; total: number } {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.search) {
      const needle = q.search.toLowerCase();
      where.push(
        "(instr(lower(t.value), ?) > 0 OR instr(lower(coalesce(json_extract(t.doc, '$.properties'), '')), ?) > 0)",
      );
      params.push(needle, needle);
    }
    if (q.categoryUuid !== undefined) {
      where.push('t.category_uuid = ?');
      params.push(q.categoryUuid);
    }
    for (const f of q.filters) where.push(compileFilter(f, params));
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total =
      this.sql.one<{ n: number }>(
        `SELECT count(*) AS n FROM tags t LEFT JOIN tag_categories c ON c.uuid = t.category_uuid ${clause}`,
        params,
      )?.n ?? 0;
    const rows = this.sql.all<TagRow>(
      `${TAG_SELECT} ${clause} ORDER BY t.value COLLATE NOCASE, t.uuid LIMIT ? OFFSET ?`,
      [...params, q.limit, q.offset],
    );
    return { tags: rows.map(toTag), total };
  }

  getTagCategory(uuid: string): TagCategoryRecord | undefined {
    const row = this.sql.one<TagCategoryRow>('SELECT * FROM tag_categories WHERE uuid = ?', [uuid]);
    return row ? toTagCategory(row) : undefined;
  }

  /** The category with this name, compared case-insensitively. */
  tagCategoryByName(name: string): TagCategoryRecord | undefined {
    const row = this.sql.one<TagCategoryRow>('SELECT * FROM tag_categories WHERE name = ? COLLATE NOCASE', [
      name,
    ]);
    return row ? toTagCategory(row) : undefined;
  }

  /** Categories ordered by name; `search` is a case-insensitive substring of name or description. */
  listTagCategories(search?: string): TagCategoryRecord[] {
    const rows = search
      ? this.sql.all<TagCategoryRow>(
          `SELECT * FROM tag_categories
           WHERE instr(lower(name), ?) > 0 OR instr(lower(coalesce(description, '')), ?) > 0
           ORDER BY name COLLATE NOCASE, uuid`,
          [search.toLowerCase(), search.toLowerCase()],
        )
      : this.sql.all<TagCategoryRow>('SELECT * FROM tag_categories ORDER BY name COLLATE NOCASE, uuid');
    return rows.map(toTagCategory);
  }

  insertTagCategory(c: TagCategoryRecord): void {
    this.sql.run(
      `INSERT INTO tag_categories (uuid, name, description, schema, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      [
        c.uuid,
        c.name,
        c.description,
        c.schema === null ? null : JSON.stringify(c.schema),
        c.createdAt,
        c.updatedAt,
      ],
    );
  }

  updateTagCategory(c: TagCategoryRecord): void {
    this.sql.run(
      'UPDATE tag_categories SET name = ?, description = ?, schema = ?, updated_at = ? WHERE uuid = ?',
      [c.name, c.description, c.schema === null ? null : JSON.stringify(c.schema), c.updatedAt, c.uuid],
    );
  }

  deleteTagCategory(uuid: string): boolean {
    return this.sql.run('DELETE FROM tag_categories WHERE uuid = ?', [uuid]).changes > 0;
  }
}
