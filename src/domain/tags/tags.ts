import { findCountry } from '../../catalog/countries.ts';
import type {
  TagCategoryRecord,
  TagFilter,
  TagFilterOp,
  TagRecord,
  TagStore,
} from '../../store/catalog/tags.ts';
import { PROPERTY_KEY_PATTERN, TAG_FILTER_FIELDS } from '../../store/catalog/tags.ts';
import { type Ctx, requireWrite } from '../context.ts';
import { conflict, invalidInput, notFound } from '../errors.ts';
import { OPS, type RawCondition } from '../events/search.ts';
import { type FieldDefinition, isCalendarDate, validateProperties } from './fields.ts';
import type { TagEdit, TagInput } from './input.ts';

type Message = { code: number; message: string };

/** A tag as the API returns it (C0.8, the owner projection). */
export type TagView = { uuid: string; value: string } & Record<string, unknown>;

interface Annotated<T> {
  value: T;
  confidence?: number;
  tlp?: string;
}

/** String fields that may carry annotations; each is answered plain and as `<field>_annotated`. */
const ANNOTATED_FIELDS = [
  'activeDuration',
  'actorCategory',
  'attributionOrganization',
  'motive',
  'opsecLevel',
  'sophisticationLevel',
] as const;
const LIST_FIELDS = ['aliasGroupNames', 'aliasGroupNamesInternal', 'externalReferenceLinks'] as const;
const TEXT_FIELDS = ['description', 'internalDescription', 'lastSeen'] as const;

const iso = (ms: number): string => new Date(ms).toISOString();
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function annotation<T>(
  input: T | { value: T; confidence?: number | undefined; tlp?: string | undefined },
): Annotated<T> {
  if (isObject(input) && 'value' in input) {
    const out: Annotated<T> = { value: input.value as T };
    if (typeof input.confidence === 'number') out.confidence = input.confidence;
    if (typeof input.tlp === 'string') out.tlp = input.tlp;
    return out;
  }
  return { value: input as T };
}

function aliasList(list: NonNullable<TagInput['aliases']>): Record<string, unknown>[] {
  const seen = new Set<string>();
  const out: Record<string, unknown>[] = [];
  for (const a of list) {
    const entry: Record<string, unknown> =
      typeof a === 'string' ? { value: a.trim() } : { value: a.value.trim() };
    if (typeof a !== 'string') {
      if (a.confidence !== undefined) entry.confidence = a.confidence;
      if (a.tlp !== undefined) entry.tlp = a.tlp;
    }
    const v = entry.value as string;
    if (!v || seen.has(v)) continue;
    seen.add(v);
    out.push(entry);
  }
  return out;
}

/** Applies the body's fields (other than value, category, tlp, properties) to a stored document. */
function applyFields(doc: Record<string, unknown>, input: TagEdit, issues: string[]): void {
  const set = (key: string, v: unknown) => {
    if (v === null) delete doc[key];
    else if (v !== undefined) doc[key] = v;
  };
  for (const f of ANNOTATED_FIELDS) {
    const v = input[f];
    set(f, v === null || v === undefined ? v : annotation<string>(v));
  }
  if (input.originCountryISO !== undefined) {
    const a = input.originCountryISO === null ? null : annotation<string | null>(input.originCountryISO);
    if (a) {
      const text = (a.value ?? '').trim();
      if (!text) a.value = null;
      else {
        const country = /^[A-Za-z]{2,3}$/.test(text) ? findCountry(text) : undefined;
        if (!country)
          issues.push(`originCountryISO: ${JSON.stringify(text)} is not an ISO 3166 alpha-2 or alpha-3 code`);
        a.value = text.toUpperCase();
      }
    }
    set('originCountryISO', a);
  }
  if (input.priority !== undefined)
    set('priority', input.priority === null ? null : annotation<number>(input.priority));
  if (input.aliases !== undefined) set('aliases', input.aliases === null ? null : aliasList(input.aliases));
  if (input.internalAliases !== undefined)
    set('internalAliases', input.internalAliases === null ? null : aliasList(input.internalAliases));
  for (const f of LIST_FIELDS) {
    const v = input[f];
    set(f, v === null || v === undefined ? v : [...new Set(v.map((s) => s.trim()).filter(Boolean))]);
  }
  if (input.externalReferences) {
    input.externalReferences.forEach((r, i) => {
      let ok = false;
      try {
        const u = new URL(r.url);
        ok = u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        ok = false;
      }
      if (!ok) issues.push(`externalReferences[${i}].url: ${JSON.stringify(r.url)} is not an http(s) URL`);
    });
  }
  set(
    'externalReferences',
    input.externalReferences === null || input.externalReferences === undefined
      ? input.externalReferences
      : input.externalReferences.map((r) =>
          r.description === undefined ? { url: r.url } : { url: r.url, description: r.description },
        ),
  );
  set('confidence', input.confidence);
  if (typeof input.dateOfDiscovery === 'string' && !isCalendarDate(input.dateOfDiscovery))
    issues.push(`dateOfDiscovery: ${JSON.stringify(input.dateOfDiscovery)} is not a date (YYYY-MM-DD)`);
  set('dateOfDiscovery', input.dateOfDiscovery);
  for (const f of TEXT_FIELDS) set(f, input[f]);
}

/** Renders a stored tag (C0.8). */
export function toTagView(r: TagRecord): TagView {
  const d = r.doc;
  const view: TagView = { uuid: r.uuid, value: r.value };
  for (const f of ANNOTATED_FIELDS) {
    const a = d[f];
    if (isObject(a)) {
      view[f] = a.value;
      view[`${f}_annotated`] = a;
    }
  }
  const origin = d.originCountryISO;
  if (isObject(origin)) {
    const value = typeof origin.value === 'string' && origin.value ? origin.value.toUpperCase() : null;
    view.originCountryISO = value;
    view.originCountryISO_annotated = { ...origin, value };
  }
  if (isObject(d.priority)) {
    view.priority = d.priority.value;
    view.priority_annotated = d.priority;
  }
  if (d.aliases !== undefined) view.aliases = d.aliases;
  if (d.internalAliases !== undefined) view.internalAliases = d.internalAliases;
  for (const f of LIST_FIELDS) if (d[f] !== undefined) view[f] = d[f];
  if (Array.isArray(d.externalReferences)) {
    view.externalReferences = d.externalReferences;
    view.externalReferences_annotated = d.externalReferences.map((e) => ({
      value: isObject(e) ? e.url : String(e),
    }));
  }
  if (r.categoryUuid !== null) {
    view.categoryUuid = r.categoryUuid;
    if (r.categoryName) view.categoryName = r.categoryName;
  }
  if (d.confidence !== undefined) view.confidence = d.confidence;
  if (d.dateOfDiscovery !== undefined) view.dateOfDiscovery = d.dateOfDiscovery;
  for (const f of TEXT_FIELDS) if (d[f] !== undefined) view[f] = d[f];
  view.properties = isObject(d.properties) && Object.keys(d.properties).length > 0 ? d.properties : null;
  view.tlp = r.tlp;
  view.version = r.version;
  view.createdAt = iso(r.createdAt);
  view.updatedAt = iso(r.updatedAt);
  return view;
}

function categoryFor(store: TagStore, uuid: string): TagCategoryRecord {
  const c = store.getTagCategory(uuid);
  if (!c) throw invalidInput(`categoryUuid: tag category not found: ${uuid}`);
  return c;
}

const schemaOf = (c: TagCategoryRecord | undefined): FieldDefinition[] | null =>
  (c?.schema as FieldDefinition[] | null | undefined) ?? null;

/** Drops null-valued keys (null means "no value" on create and "delete" on edit). */
function withoutNulls(props: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(props).filter(([, v]) => v !== null && v !== undefined));
}

/** E61: creates a tag; answers it and any schema warnings. */
export function createTag(ctx: Ctx, input: TagInput): { tag: TagView; messages: Message[] } {
  requireWrite(ctx);
  const catalog = ctx.stores.catalog(ctx.accountId);
  const store = catalog.tags;
  const value = input.value.trim();
  if (!value) throw invalidInput('value: must not be empty');
  return catalog.transaction(() => {
    if (store.tagByValue(value)) throw conflict(`value: a tag ${JSON.stringify(value)} already exists`);
    const category = input.categoryUuid ? categoryFor(store, input.categoryUuid) : undefined;
    const issues: string[] = [];
    const doc: Record<string, unknown> = {};
    applyFields(doc, input, issues);
    if (issues.length) throw invalidInput(issues);
    const properties = withoutNulls(input.properties ?? {});
    const messages = validateProperties(schemaOf(category), properties, undefined);
    if (Object.keys(properties).length) doc.properties = properties;
    const now = ctx.clock.now();
    const record: TagRecord = {
      uuid: ctx.ids.uuid(),
      value,
      categoryUuid: category?.uuid ?? null,
      categoryName: category?.name ?? null,
      tlp: input.tlp ?? null,
      version: 1,
      doc,
      createdAt: now,
      updatedAt: now,
    };
    store.insertTag(record);
    return { tag: toTagView(record), messages };
  });
}

function mustTag(store: TagStore, uuid: string): TagRecord {
  const t = store.getTag(uuid);
  if (!t) throw notFound('tag', uuid);
  return t;
}

/** E63: partial edit; properties merge per key, category changes re-validate, the version goes up. */
export function editTag(ctx: Ctx, uuid: string, input: TagEdit): { tag: TagView; messages: Message[] } {
  requireWrite(ctx);
  if (input.tlp === null) throw invalidInput('tlp: cannot be cleared; set another TLP marking instead');
  const catalog = ctx.stores.catalog(ctx.accountId);
  const store = catalog.tags;
  return catalog.transaction(() => {
    const old = mustTag(store, uuid);
    const next: TagRecord = { ...old, doc: structuredClone(old.doc) };
    if (input.value !== undefined) {
      const value = input.value.trim();
      if (!value) throw invalidInput('value: must not be empty');
      const clash = store.tagByValue(value);
      if (clash && clash.uuid !== old.uuid)
        throw conflict(`value: a tag ${JSON.stringify(value)} already exists`);
      next.value = value;
    }
    let category: TagCategoryRecord | undefined;
    if (input.categoryUuid === null) {
      next.categoryUuid = null;
      next.categoryName = null;
    } else if (input.categoryUuid !== undefined) {
      category = categoryFor(store, input.categoryUuid);
      next.categoryUuid = category.uuid;
      next.categoryName = category.name;
    } else if (old.categoryUuid !== null) {
      category = store.getTagCategory(old.categoryUuid);
    }
    const issues: string[] = [];
    applyFields(next.doc, input, issues);
    if (issues.length) throw invalidInput(issues);
    if (input.tlp !== undefined) next.tlp = input.tlp;
    let messages: Message[] = [];
    const stored = isObject(old.doc.properties) ? old.doc.properties : {};
    if (input.properties !== undefined || input.categoryUuid !== undefined) {
      const merged =
        input.properties === null ? {} : withoutNulls({ ...stored, ...(input.properties ?? {}) });
      messages = validateProperties(schemaOf(category), merged, stored);
      if (Object.keys(merged).length) next.doc.properties = merged;
      else delete next.doc.properties;
    }
    next.version = old.version + 1;
    next.updatedAt = ctx.clock.now();
    store.updateTag(next);
    return { tag: toTagView(next), messages };
  });
}

/** E64 */
export function deleteTag(ctx: Ctx, uuid: string): { uuid: string } {
  requireWrite(ctx);
  const store = ctx.stores.catalog(ctx.accountId).tags;
  if (!store.deleteTag(uuid)) throw notFound('tag', uuid);
  return { uuid };
}

export const MAX_TAG_FILTERS = 10;
export const MAX_TAG_PAGE_SIZE = 1000;
const DEFAULT_TAG_PAGE_SIZE = 50;
const MAX_IN_VALUES = 100;
const TEXT_ONLY_OPS: readonly TagFilterOp[] = ['like', 'contains', 'startsWith', 'endsWith', 'find'];

/** Validates E62 filters: fields per C7, `uuid` only with equals/in, numbers where numbers are stored. */
export function validateTagFilters(raw: readonly RawCondition[]): TagFilter[] {
  const issues: string[] = [];
  const out: TagFilter[] = [];
  if (raw.length > MAX_TAG_FILTERS) throw invalidInput(`filters: at most ${MAX_TAG_FILTERS} conditions`);
  raw.forEach((c, i) => {
    const at = `filters[${i}]`;
    const field = typeof c.field === 'string' ? c.field.trim() : '';
    let type: 'text' | 'number' | 'any' | undefined = TAG_FILTER_FIELDS[field];
    if (!type && field.startsWith('properties.')) {
      const rest = field.slice('properties.'.length);
      const key = rest.replace(/\.(tlp|confidence)$/, '');
      if (PROPERTY_KEY_PATTERN.test(key)) type = rest.endsWith('.confidence') ? 'number' : 'any';
    }
    if (!type) {
      issues.push(
        `${at}.field: ${JSON.stringify(c.field ?? null)} is not filterable; use one of ${Object.keys(TAG_FILTER_FIELDS).join(', ')} or properties.<key>`,
      );
      return;
    }
    const op = c.op;
    if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) {
      issues.push(`${at}.op: ${JSON.stringify(op ?? null)} is not one of ${OPS.join(', ')}`);
      return;
    }
    const tagOp = op as TagFilterOp;
    if (field === 'uuid' && tagOp !== 'equals' && tagOp !== 'in') {
      issues.push(`${at}.op: uuid accepts only equals and in, not ${op}`);
      return;
    }
    if (type === 'number' && TEXT_ONLY_OPS.includes(tagOp)) {
      issues.push(`${at}.op: ${op} compares text; ${field} is a number`);
      return;
    }
    const values = Array.isArray(c.value)
      ? c.value
      : c.value === undefined || c.value === null
        ? []
        : [c.value];
    if (values.length === 0) {
      issues.push(`${at}.value: required`);
      return;
    }
    if (tagOp !== 'in' && values.length > 1) {
      issues.push(`${at}.value: ${op} takes one value, got ${values.length}`);
      return;
    }
    if (values.length > MAX_IN_VALUES) {
      issues.push(`${at}.value: at most ${MAX_IN_VALUES} values, got ${values.length}`);
      return;
    }
    const clean: (string | number)[] = [];
    for (const v of values) {
      if (typeof v !== 'string' && typeof v !== 'number') {
        issues.push(`${at}.value: values must be strings or numbers`);
        return;
      }
      if (type === 'number') {
        const n = typeof v === 'number' ? v : Number(v.trim());
        if (typeof v === 'string' && v.trim() === '') issues.push(`${at}.value: ${field} needs a number`);
        else if (!Number.isFinite(n))
          issues.push(`${at}.value: ${field} needs a number, got ${JSON.stringify(v)}`);
        else clean.push(n);
      } else clean.push(field === 'uuid' ? String(v).toLowerCase() : v);
    }
    if (clean.length !== values.length) return;
    out.push({ field, op: tagOp, value: tagOp === 'in' ? clean : (clean[0] ?? '') });
  });
  if (issues.length) throw invalidInput(issues);
  return out;
}

/** E62 */
export function listTags(
  ctx: Ctx,
  input: {
    search?: string | undefined;
    categoryUuid?: string | undefined;
    filters?: readonly RawCondition[] | undefined;
    page?: number | undefined;
    pageSize?: number | undefined;
  },
): {
  tags: TagView[];
  pagination: { page: number; pageSize: number; totalCount: number; totalPages: number };
} {
  const filters = validateTagFilters(input.filters ?? []);
  const page = input.page ?? 1;
  const pageSize = input.pageSize ?? DEFAULT_TAG_PAGE_SIZE;
  const search = input.search?.trim();
  const { tags, total } = ctx.stores.catalog(ctx.accountId).tags.searchTags({
    search: search || undefined,
    categoryUuid: input.categoryUuid,
    filters,
    limit: pageSize,
    offset: (page - 1) * pageSize,
  });
  return {
    tags: tags.map(toTagView),
    pagination: { page, pageSize, totalCount: total, totalPages: Math.ceil(total / pageSize) },
  };
}
