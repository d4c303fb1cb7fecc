import { findCountry } from '../../catalog/countries.ts';
import type { DatasetRecord } from '../../store/catalog/catalog.ts';
import type { TagFilter } from '../../store/catalog/tags.ts';
import type { IndicatorCondition, IndicatorFilter, IndicatorRecord } from '../../store/shard/indicators.ts';
import type { Ctx } from '../context.ts';
import { getLiveDataset, resolveDatasets } from '../datasets/datasets.ts';
import { ApiError, invalidInput, notFound } from '../errors.ts';
import { addr } from '../events/events.ts';
import { OPS, type Op, parseIsoDate, type RawCondition } from '../events/search.ts';
import { validateTagFilters } from '../tags/tags.ts';

export const MAX_INDICATOR_PAGE = 1000;
const MAX_CONDITIONS = 10;
const MAX_IN = 100;

/** An indicator as the API shows it (C0.7). */
export interface IndicatorView {
  uuid: string;
  value: string;
  indicatorType: string;
  createdAt: string;
  updatedAt: string;
  datasetId: string;
  sources?: { resourceId: string; resourceType: 'article'; system: 'threat-signals'; title: string | null }[];
  relatedEvents?: { datasetId: string; eventId: string; eventDate: string | null }[];
  relatedEventsHasMore?: boolean;
  tags?: { categoryId: string | null; categoryName?: string; uuid: string; value: string }[];
  tlp: string | null;
}

/** E54 input, after the transport parsed the query string. */
export interface IndicatorListInput {
  datasetIds?: string[] | undefined;
  cursor?: string | undefined;
  page?: number | undefined;
  pageSize?: number | undefined;
  createdAfter?: string | undefined;
  createdBefore?: string | undefined;
  includeTags?: boolean | undefined;
  includeTotalCount?: boolean | undefined;
  indicatorType?: string | undefined;
  name?: string | undefined;
  relatedEvents?: string[] | undefined;
  relatedEventsLimit?: number | undefined;
  search?: RawCondition[] | undefined;
  tags?: string[] | undefined;
  tagSearch?: RawCondition[] | undefined;
}

interface IndicatorCursor {
  v: 1;
  e: 'indicators';
  q: Omit<IndicatorListInput, 'cursor' | 'page' | 'includeTotalCount'>;

  a: { c: number; u: string };
  p: number;
}

function encode(state: IndicatorCursor): string {
  const bytes = new TextEncoder().encode(JSON.stringify(state));
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function decode(cursor: string): IndicatorCursor {
  const bad = (why: string) => new ApiError('invalidCursor', `cursor: InvalidCursorError: ${why}`);
  if (cursor.length > 16_384 || !/^[A-Za-z0-9_-]+$/.test(cursor))
    throw bad('not a cursor this server issued');
  let state: Partial<IndicatorCursor>;
  try {
    const bin = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'));
    state = JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
  } catch {
    throw bad('not a cursor this server issued');
  }
  if (state?.e !== 'indicators') throw bad('this cursor is for another list');
  if (state.v !== 1) throw bad('unsupported cursor version');
  if (
    !state.a ||
    typeof state.a.c !== 'number' ||
    typeof state.a.u !== 'string' ||
    typeof state.p !== 'number' ||
    !state.q
  ) {
    throw bad('not a cursor this server issued');
  }
  return state as IndicatorCursor;
}

const iso = (ms: number) => new Date(ms).toISOString();

function validateIndicatorConditions(raw: readonly RawCondition[], where: string): IndicatorCondition[] {
  if (raw.length > MAX_CONDITIONS)
    throw invalidInput(`${where}: at most ${MAX_CONDITIONS} conditions, got ${raw.length}`);
  const issues: string[] = [];
  const out: IndicatorCondition[] = [];
  raw.forEach((c, i) => {
    const at = `${where}[${i}]`;
    const op = (c.op ?? 'equals') as string;
    if (c.field !== 'value' && c.field !== 'indicatorType' && c.field !== 'uuid') {
      issues.push(
        `${at}.field: unknown field ${JSON.stringify(c.field)}; expected value, indicatorType or uuid`,
      );
      return;
    }
    if (!(OPS as readonly string[]).includes(op)) {
      issues.push(`${at}.op: unknown op ${JSON.stringify(op)}; expected one of ${OPS.join(', ')}`);
      return;
    }
    const list = Array.isArray(c.value) ? c.value : c.value === undefined ? [] : [c.value];
    if (list.length === 0 || list.some((v) => typeof v !== 'string' && typeof v !== 'number')) {
      issues.push(`${at}.value: a string value is required`);
      return;
    }
    if (op === 'in' && list.length > MAX_IN) {
      issues.push(`${at}.value: op "in" takes at most ${MAX_IN} values, got ${list.length}`);
      return;
    }
    if (op !== 'in' && list.length > 1) {
      issues.push(`${at}.value: op "${op}" takes one value`);
      return;
    }
    const values = list.map((v) => (c.field === 'indicatorType' ? String(v).toLowerCase() : String(v)));
    out.push({ field: c.field, op: op as Op, value: op === 'in' ? values : (values[0] as string) });
  });
  if (issues.length) throw invalidInput(issues);
  return out;
}

function dateParam(text: string | undefined, name: string, endOfDay = false): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseIsoDate(text);
  if (ms === undefined)
    throw invalidInput(`${name}: ${JSON.stringify(text)} is not an ISO 8601 date or date-time`);
  return endOfDay && /^\d{4}-\d{2}-\d{2}$/.test(text) ? ms + 86_399_999 : ms;
}

/** Tag names selected by `tags` (values or uuids, OR) and `tagSearch` (AND-ed filters). */
function selectedTagNames(
  ctx: Ctx,
  tags: readonly string[] | undefined,
  tagSearch: readonly RawCondition[] | undefined,
) {
  if (!tags?.length && !tagSearch?.length) return undefined;
  const store = ctx.stores.catalog(ctx.accountId).tags;
  let names: Set<string> | undefined;
  if (tags?.length) {
    names = new Set<string>();
    for (const t of tags) {
      names.add(t);
      const byUuid = /^[0-9a-f-]{36}$/i.test(t) ? store.getTag(t.toLowerCase()) : undefined;
      if (byUuid) names.add(byUuid.value);
    }
  }
  if (tagSearch?.length) {
    if (tagSearch.length > MAX_CONDITIONS) throw invalidInput(`tagSearch: at most ${MAX_CONDITIONS} entries`);
    const mapped: RawCondition[] = [];
    let categoryUuid: string | undefined;
    tagSearch.forEach((c, i) => {
      if (c.field === 'categoryId') {
        if ((c.op ?? 'equals') !== 'equals' || typeof c.value !== 'string') {
          throw invalidInput(`tagSearch[${i}]: categoryId takes op equals with one category uuid`);
        }
        categoryUuid = c.value;
        return;
      }
      if (c.field === 'originCountryISO') {
        const norm = (v: unknown) =>
          typeof v === 'string' ? (findCountry(v)?.alpha2 ?? v.toUpperCase()) : v;
        mapped.push({ ...c, value: Array.isArray(c.value) ? c.value.map(norm) : norm(c.value) });
        return;
      }
      mapped.push(c);
    });
    const filters: TagFilter[] = validateTagFilters(mapped).map((f) => f);
    const found = store
      .searchTags({ filters, categoryUuid, limit: 100_000, offset: 0 })
      .tags.map((t) => t.value);
    const matched = new Set(found);
    names = names ? new Set([...names].filter((n) => matched.has(n))) : matched;
  }
  return [...(names ?? [])];
}

function buildFilter(ctx: Ctx, q: IndicatorCursor['q']): IndicatorFilter {
  const tagNames = selectedTagNames(ctx, q.tags, q.tagSearch);
  const filter: IndicatorFilter = {
    conditions: validateIndicatorConditions(q.search ?? [], 'search'),
    indicatorType: q.indicatorType?.toLowerCase(),
    name: q.name,
    createdAfterMs: dateParam(q.createdAfter, 'createdAfter'),
    createdBeforeMs: dateParam(q.createdBefore, 'createdBefore', true),
    relatedEvents: q.relatedEvents,
  };
  if (tagNames) filter.tags = tagNames;
  return filter;
}

/**
 * Renders indicators with their related events and tags. An indicator of a dataset spread over
 * several shards has links in each; they are gathered from every shard that holds it.
 */
async function render(
  ctx: Ctx,
  rows: readonly { rec: IndicatorRecord; datasetId: string; shardId: string }[],
  options: { relatedEventsLimit: number; includeTags: boolean; sources: boolean },
): Promise<{ views: IndicatorView[]; capped: boolean }> {
  const catalog = ctx.stores.catalog(ctx.accountId);
  // Which shard rows hold each listed indicator: its own row, plus copies in sibling shards.
  const holders = new Map<string, { shardId: string; id: number }[]>();
  for (const r of rows) {
    const key = `${r.datasetId}/${r.rec.uuid}`;
    const list: { shardId: string; id: number }[] = [{ shardId: r.shardId, id: r.rec.id }];
    for (const s of catalog.shardsOf(r.datasetId)) {
      if (s.id === r.shardId) continue;
      const copy = await ctx.stores.shards.indicatorByUuid(addr(ctx, s.id), r.rec.uuid);
      if (copy) list.push({ shardId: s.id, id: copy.id });
    }
    holders.set(key, list);
  }
  const byShard = new Map<string, number[]>();
  for (const list of holders.values())
    for (const h of list) byShard.set(h.shardId, [...(byShard.get(h.shardId) ?? []), h.id]);
  const perShard = new Map<string, { events: { uuid: string; dateMs: number }[]; tags: string[] }>();
  const fetchLimit = options.relatedEventsLimit < 0 ? -1 : options.relatedEventsLimit + 1;
  for (const [shardId, ids] of byShard) {
    const got = await ctx.stores.shards.indicatorDetails(
      addr(ctx, shardId),
      ids,
      fetchLimit,
      options.includeTags,
    );
    for (const [id, d] of got) perShard.set(`${shardId}:${id}`, d);
  }
  const details = new Map<string, { events: { uuid: string; dateMs: number }[]; tags: string[] }>();
  for (const [key, list] of holders) {
    const parts = list.map((h) => perShard.get(`${h.shardId}:${h.id}`) ?? { events: [], tags: [] });
    const events = parts
      .flatMap((p) => p.events)
      .sort((a, b) => b.dateMs - a.dateMs || (a.uuid < b.uuid ? 1 : -1));
    const tags = [...new Set(parts.flatMap((p) => p.tags))].sort();
    details.set(key, { events, tags });
  }
  const tagStore = catalog.tags;
  const allTags = options.includeTags ? [...new Set([...details.values()].flatMap((d) => d.tags))] : [];
  const tagRecords = tagStore.tagsByValue(allTags);
  let capped = false;
  const views = rows.map(({ rec, datasetId }) => {
    const d = details.get(`${datasetId}/${rec.uuid}`) ?? { events: [], tags: [] };
    const view: IndicatorView = {
      uuid: rec.uuid,
      value: rec.value,
      indicatorType: rec.type,
      createdAt: iso(rec.createdMs),
      updatedAt: iso(rec.updatedMs),
      datasetId,
      tlp: null,
    };
    if (options.sources) view.sources = [];
    if (options.relatedEventsLimit !== 0) {
      const hasMore = options.relatedEventsLimit > 0 && d.events.length > options.relatedEventsLimit;
      const events = hasMore ? d.events.slice(0, options.relatedEventsLimit) : d.events;
      view.relatedEvents = events.map((e) => ({ datasetId, eventId: e.uuid, eventDate: iso(e.dateMs) }));
      view.relatedEventsHasMore = hasMore;
      capped ||= hasMore;
    }
    if (options.includeTags) {
      view.tags = d.tags.map((name) => {
        const t = tagRecords.get(name);
        const tag: NonNullable<IndicatorView['tags']>[number] = {
          categoryId: t?.categoryUuid ?? null,
          uuid: t?.uuid ?? '',
          value: name,
        };
        if (t?.categoryName) tag.categoryName = t.categoryName;
        return tag;
      });
    }
    return view;
  });
  return { views, capped };
}

type Listed = { rec: IndicatorRecord; datasetId: string; shardId: string };

/** List order: newest first, then uuid, dataset and shard ascending. */
function byListOrder(a: Listed, b: Listed): number {
  return (
    b.rec.createdMs - a.rec.createdMs ||
    (a.rec.uuid < b.rec.uuid ? -1 : a.rec.uuid > b.rec.uuid ? 1 : 0) ||
    (a.datasetId < b.datasetId ? -1 : a.datasetId > b.datasetId ? 1 : 0) ||
    (a.shardId < b.shardId ? -1 : a.shardId > b.shardId ? 1 : 0)
  );
}

/** One row per indicator of a dataset: the copies in later shards share its uuid and created time. */
function dedupe(sorted: readonly Listed[]): Listed[] {
  const seen = new Set<string>();
  const out: Listed[] = [];
  for (const r of sorted) {
    const key = `${r.datasetId}/${r.rec.uuid}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(r);
  }
  return out;
}

/**
 * Distinct indicators matching a filter. A one-shard dataset counts its rows; a dataset spread
 * over several shards gathers the uuids and counts each once. The first-sighting marks
 * (is_primary) are not enough there: with link filters (tags, related events) a copy may match
 * where the first did not, and once the events that carried an indicator in its first shard
 * are deleted or reverted away, the copies left in later shards are all secondary.
 */
async function countDistinct(
  ctx: Ctx,
  shards: readonly { shardId: string; datasetId: string }[],
  filter: IndicatorFilter,
): Promise<number> {
  const perDataset = new Map<string, string[]>();
  for (const s of shards) perDataset.set(s.datasetId, [...(perDataset.get(s.datasetId) ?? []), s.shardId]);
  let total = 0;
  for (const shardIds of perDataset.values()) {
    if (shardIds.length === 1) {
      total += await ctx.stores.shards.countIndicators(addr(ctx, shardIds[0] as string), filter);
      continue;
    }
    const uuids = new Set<string>();
    for (const id of shardIds)
      for (const u of await ctx.stores.shards.indicatorUuids(addr(ctx, id), filter)) uuids.add(u);
    total += uuids.size;
  }
  return total;
}

function shardsOfDatasets(ctx: Ctx, datasets: readonly DatasetRecord[]) {
  const catalog = ctx.stores.catalog(ctx.accountId);
  return datasets.flatMap((d) => catalog.shardsOf(d.uuid).map((s) => ({ shardId: s.id, datasetId: d.uuid })));
}

function relatedLimit(n: number | undefined): number {
  const limit = n ?? 2;
  if (!Number.isInteger(limit) || limit < -1)
    throw invalidInput('relatedEventsLimit: -1 (all), 0 (none) or a positive integer');
  return limit;
}

/** E54: indicators of the requested datasets, newest first, by page or cursor. */
export async function listIndicators(ctx: Ctx, input: IndicatorListInput) {
  let state: Omit<IndicatorCursor, 'a'> & { a?: IndicatorCursor['a'] };
  if (input.cursor !== undefined) {
    state = decode(input.cursor);
  } else {
    const { cursor: _c, page, includeTotalCount: _t, ...q } = input;
    state = { v: 1, e: 'indicators', q, p: page ?? 1 };
    if (!Number.isInteger(state.p) || state.p < 1) throw invalidInput('page: must be an integer ≥ 1');
  }
  const q = state.q;
  // The cursor carries the page size with the filters (E54 refuses a pageSize beside a cursor).
  const pageSize = q.pageSize ?? 100;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_INDICATOR_PAGE) {
    throw invalidInput(`pageSize: an integer from 1 to ${MAX_INDICATOR_PAGE}`);
  }
  const datasets = resolveDatasets(ctx, q.datasetIds, 'datasetIds');
  const filter = buildFilter(ctx, q);
  const shards = shardsOfDatasets(ctx, datasets);
  const offset = state.a ? 0 : (state.p - 1) * pageSize;
  const page = {
    limit: offset + pageSize + 1,
    offset: 0,
    ...(state.a ? { after: { createdMs: state.a.c, uuid: state.a.u } } : {}),
  };
  const merged: { rec: IndicatorRecord; datasetId: string; shardId: string }[] = [];
  for (const s of shards) {
    for (const rec of await ctx.stores.shards.listIndicators(addr(ctx, s.shardId), filter, page)) {
      merged.push({ rec, ...s });
    }
  }
  merged.sort(byListOrder);
  const distinct = dedupe(merged);
  const hasMore = distinct.length > offset + pageSize;
  const rows = distinct.slice(offset, offset + pageSize);
  const relatedEventsLimit = relatedLimit(q.relatedEventsLimit);
  const { views, capped } = await render(ctx, rows, {
    relatedEventsLimit,
    includeTags: q.includeTags ?? true,
    sources: true,
  });
  const total = input.includeTotalCount ? await countDistinct(ctx, shards, filter) : null;
  const last = rows[rows.length - 1];
  const cursor =
    hasMore && last
      ? encode({ v: 1, e: 'indicators', q, a: { c: last.rec.createdMs, u: last.rec.uuid }, p: state.p + 1 })
      : null;
  const messages = capped
    ? [
        {
          code: 1100,
          message: `relatedEvents is capped at ${relatedEventsLimit} per indicator; pass relatedEventsLimit=-1 for all`,
        },
      ]
    : [];
  return {
    result: {
      indicators: views,
      pagination: {
        count: views.length,
        cursor,
        has_more: hasMore,
        page: state.p,
        per_page: pageSize,
        total_count: total,
        total_count_is_exact: total !== null,
      },
      completeness: { complete: true, failedDatasets: [], failedShards: [], warnings: [] },
    },
    messages,
  };
}

/** E58 and E69/E70: page-number lists with `{ indicators, pagination }`. */
async function pagedIndicators(
  ctx: Ctx,
  datasets: readonly DatasetRecord[],
  filter: IndicatorFilter,
  input: { page?: number | undefined; pageSize?: number | undefined },
  sources: boolean,
) {
  const page = input.page ?? 1;
  const pageSize = input.pageSize ?? 100;
  if (!Number.isInteger(page) || page < 1) throw invalidInput('page: must be an integer ≥ 1');
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_INDICATOR_PAGE) {
    throw invalidInput(`pageSize: an integer from 1 to ${MAX_INDICATOR_PAGE}`);
  }
  const offset = (page - 1) * pageSize;
  if (offset > 100_000)
    throw invalidInput('page: offset beyond 100,000; use GET /events/indicators with its cursor');
  const shards = shardsOfDatasets(ctx, datasets);
  const merged: { rec: IndicatorRecord; datasetId: string; shardId: string }[] = [];
  const total = await countDistinct(ctx, shards, filter);
  for (const s of shards) {
    for (const rec of await ctx.stores.shards.listIndicators(addr(ctx, s.shardId), filter, {
      limit: offset + pageSize,
    })) {
      merged.push({ rec, ...s });
    }
  }
  merged.sort(byListOrder);
  const rows = dedupe(merged).slice(offset, offset + pageSize);
  const { views } = await render(ctx, rows, { relatedEventsLimit: 0, includeTags: false, sources });
  return {
    indicators: views,
    pagination: { page, pageSize, totalCount: total, totalPages: Math.ceil(total / pageSize) },
  };
}

/** E58 (deprecated): indicators of one dataset. */
export async function listDatasetIndicators(
  ctx: Ctx,
  datasetId: string,
  input: {
    indicatorType?: string | undefined;
    name?: string | undefined;
    page?: number | undefined;
    pageSize?: number | undefined;
    relatedEvent?: string[] | undefined;
  },
) {
  const dataset = getLiveDataset(ctx, datasetId);
  return pagedIndicators(
    ctx,
    [dataset],
    {
      indicatorType: input.indicatorType?.toLowerCase(),
      name: input.name,
      relatedEvents: input.relatedEvent,
    },
    input,
    true,
  );
}

/** E59: one indicator of a dataset. */
export async function getDatasetIndicator(
  ctx: Ctx,
  datasetId: string,
  indicatorId: string,
): Promise<IndicatorView> {
  const dataset = getLiveDataset(ctx, datasetId);
  for (const s of shardsOfDatasets(ctx, [dataset])) {
    const rec = await ctx.stores.shards.indicatorByUuid(addr(ctx, s.shardId), indicatorId);
    if (rec) {
      const { views } = await render(ctx, [{ rec, ...s }], {
        relatedEventsLimit: 2,
        includeTags: true,
        sources: false,
      });
      return views[0] as IndicatorView;
    }
  }
  throw notFound('indicator', `${indicatorId} in dataset ${datasetId}`);
}

/** E60: the tags used by the events of a dataset, with their account records. */
export async function datasetIndicatorTags(ctx: Ctx, datasetId: string) {
  const dataset = getLiveDataset(ctx, datasetId);
  const names = new Set<string>();
  for (const s of shardsOfDatasets(ctx, [dataset])) {
    for (const n of await ctx.stores.shards.tagNames(addr(ctx, s.shardId))) names.add(n);
  }
  const records = ctx.stores.catalog(ctx.accountId).tags.tagsByValue([...names]);
  return [...names].sort().map((value) => {
    const t = records.get(value);
    return {
      uuid: t?.uuid ?? null,
      value,
      categoryId: t?.categoryUuid ?? null,
      categoryName: t?.categoryName ?? null,
      datasetId,
    };
  });
}

/** E69 (every dataset unless scoped) and E70 (one dataset): indicators of a tag's events. */
export async function tagIndicators(
  ctx: Ctx,
  tagUuid: string,
  input: {
    datasetIds?: string[] | undefined;
    datasetId?: string | undefined;
    indicatorType?: string | undefined;
    page?: number | undefined;
    pageSize?: number | undefined;
    relatedEvent?: string[] | undefined;
    search?: RawCondition[] | undefined;
  },
) {
  const tag =
    ctx.stores.catalog(ctx.accountId).tags.getTag(tagUuid.toLowerCase()) ??
    ctx.stores.catalog(ctx.accountId).tags.getTag(tagUuid);
  if (!tag) throw notFound('tag', tagUuid);
  let datasets: DatasetRecord[];
  if (input.datasetId) datasets = [getLiveDataset(ctx, input.datasetId)];
  else if (input.datasetIds?.length === 1 && input.datasetIds[0] === 'analytics') datasets = [];
  else
    datasets = input.datasetIds?.length
      ? resolveDatasets(ctx, input.datasetIds, 'datasetIds')
      : resolveDatasets(ctx, ['all']);
  return pagedIndicators(
    ctx,
    datasets,
    {
      conditions: validateIndicatorConditions(input.search ?? [], 'search'),
      indicatorType: input.indicatorType?.toLowerCase(),
      relatedEvents: input.relatedEvent,
      tags: [tag.value],
    },
    input,
    false,
  );
}

/** E56/E57: distinct indicator types; every live dataset unless scoped. */
export async function indicatorTypes(ctx: Ctx, datasetIds?: string[]): Promise<string[]> {
  const datasets = resolveDatasets(ctx, datasetIds?.length ? datasetIds : ['all'], 'datasetIds');
  const types = new Set<string>();
  for (const s of shardsOfDatasets(ctx, datasets)) {
    for (const t of await ctx.stores.shards.indicatorTypes(addr(ctx, s.shardId))) types.add(t);
  }
  return [...types].sort();
}

/** E55: top-N groups of indicators (or of indicator–event links) by count. */
export async function aggregateIndicators(
  ctx: Ctx,
  input: {
    aggregateBy?: string | undefined;
    datasetIds?: string[] | undefined;
    createdAfter?: string | undefined;
    createdBefore?: string | undefined;
    eventDateAfter?: string | undefined;
    eventDateBefore?: string | undefined;
    limit?: number | undefined;
    measure?: string | undefined;
    tagUuid?: string | undefined;
  },
) {
  if (!input.aggregateBy)
    throw invalidInput('aggregateBy: required (indicatorType, value, or indicatorType,value)');
  const by = input.aggregateBy.split(',').map((s) => s.trim());
  for (const b of by) {
    if (b !== 'indicatorType' && b !== 'value') {
      throw invalidInput(`aggregateBy: unknown column ${JSON.stringify(b)}; use indicatorType and/or value`);
    }
  }
  const measure = input.measure ?? 'indicators';
  if (measure !== 'indicators' && measure !== 'relationships')
    throw invalidInput('measure: indicators or relationships');
  if ((input.eventDateAfter || input.eventDateBefore) && measure !== 'relationships') {
    throw invalidInput('eventDateAfter/eventDateBefore: only with measure=relationships');
  }
  const limit = input.limit ?? 10;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    throw invalidInput('limit: an integer from 1 to 100');
  const datasets = resolveDatasets(ctx, input.datasetIds?.length ? input.datasetIds : ['all'], 'datasetIds');
  const filter: Parameters<typeof ctx.stores.shards.aggregateIndicators>[3] = {
    createdAfterMs: dateParam(input.createdAfter, 'createdAfter'),
    createdBeforeMs: dateParam(input.createdBefore, 'createdBefore', true),
    eventCreatedAfterMs: dateParam(input.eventDateAfter, 'eventDateAfter'),
    eventCreatedBeforeMs: dateParam(input.eventDateBefore, 'eventDateBefore', true),
  };
  if (input.tagUuid) {
    const tag = ctx.stores.catalog(ctx.accountId).tags.getTag(input.tagUuid);
    if (!tag) throw notFound('tag', input.tagUuid);
    filter.tags = [tag.value];
  }
  const groups = new Map<string, { key: string[]; count: number }>();
  let total = 0;
  const add = (key: string[], count: number) => {
    const k = JSON.stringify(key);
    const found = groups.get(k);
    if (found) found.count += count;
    else groups.set(k, { key, count });
    total += count;
  };
  const byDataset = new Map<string, string[]>();
  for (const s of shardsOfDatasets(ctx, datasets))
    byDataset.set(s.datasetId, [...(byDataset.get(s.datasetId) ?? []), s.shardId]);
  for (const shardIds of byDataset.values()) {
    if (measure === 'indicators' && shardIds.length > 1) {
      // Later shards keep copies of an indicator (same uuid): count each indicator of the dataset once.
      const seen = new Map<string, string[]>();
      for (const id of shardIds) {
        for (const rec of await ctx.stores.shards.listIndicators(addr(ctx, id), filter, { limit: -1 })) {
          seen.set(
            rec.uuid,
            by.map((b) => (b === 'value' ? rec.value : rec.type)),
          );
        }
      }
      for (const key of seen.values()) add(key, 1);
      continue;
    }
    for (const id of shardIds) {
      for (const g of await ctx.stores.shards.aggregateIndicators(
        addr(ctx, id),
        by as ('indicatorType' | 'value')[],
        measure,
        filter,
      )) {
        add(g.key, g.count);
      }
    }
  }
  const top = [...groups.values()]
    .sort((a, b) => b.count - a.count || (a.key.join() < b.key.join() ? -1 : 1))
    .slice(0, limit);
  return {
    aggregateBy: by.join(','),
    aggregations: top.map((g) => ({
      ...Object.fromEntries(by.map((b, i) => [b, g.key[i] ?? null])),
      count: g.count,
    })),
    failedDatasets: 0,
    total,
  };
}
