import type { RowKey, ShardQuery } from '../../store/shard/shard.ts';
import type { Ctx } from '../context.ts';
import { resolveDatasets } from '../datasets/datasets.ts';
import { ApiError, invalidInput } from '../errors.ts';
import { addr, type ThreatEventView, toEventViews } from './events.ts';
import { SORT_FIELDS, type SortField, type SortValue, type StoredEvent } from './model.ts';
import { type RawCondition, validateConditions } from './search.ts';

export const MAX_PAGE_SIZE = 25_000;
export const MAX_OFFSET = 100_000;
export const DEFAULT_PAGE_SIZE = 100;
/** Most events asked of a shard in one call when a page is assembled. */
const FETCH_CHUNK = 2_500;

/** E01 input, after the transport has parsed the query string. */
export interface ListEventsInput {
  datasetId?: string[] | undefined;
  search?: RawCondition[] | undefined;
  page?: number | undefined;
  pageSize?: number | undefined;
  order?: string | undefined;
  orderBy?: string | undefined;
  cursor?: string | undefined;
}

export interface ResultInfo {
  page: number;
  per_page: number;
  count: number;
  total_count: number;
  total_pages: number;
  cursor?: string;
}

/** What a cursor carries: the whole question and the position after the last row returned. */
interface CursorState {
  v: 1;
  d?: string[] | undefined;
  s?: RawCondition[] | undefined;
  o: 'asc' | 'desc';
  b: SortField;
  a: { k: SortValue; i: number };
  p: number;
}

function encodeCursor(state: CursorState): string {
  const bytes = new TextEncoder().encode(JSON.stringify(state));
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function decodeCursor(cursor: string): CursorState {
  const bad = () =>
    new ApiError(
      'invalidCursor',
      'cursor: not a cursor this server issued (take it from result_info.cursor)',
    );
  if (cursor.length > 16_384 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad();
  let state: unknown;
  try {
    const bin = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'));
    state = JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
  } catch {
    throw bad();
  }
  const s = state as Partial<CursorState>;
  if (
    s?.v !== 1 ||
    (s.o !== 'asc' && s.o !== 'desc') ||
    !(SORT_FIELDS as readonly string[]).includes(s.b as string) ||
    !s.a ||
    (typeof s.a.k !== 'string' && typeof s.a.k !== 'number') ||
    typeof s.a.i !== 'number' ||
    typeof s.p !== 'number'
  ) {
    throw bad();
  }
  return s as CursorState;
}

/**
 * The cursor carries the filters and order, so beside it only pageSize is needed. Clients that
 * resend the same datasetId, search, order or orderBy (the SDK's own examples do) are served;
 * a different value, or a page number, is a conflict.
 */
function checkCursorCompatible(state: CursorState, input: ListEventsInput): void {
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const conflicts: string[] = [];
  if (input.page !== undefined) conflicts.push('page');
  if (input.datasetId !== undefined && !same(input.datasetId, state.d)) conflicts.push('datasetId');
  if (input.search !== undefined && !same(input.search, state.s)) conflicts.push('search');
  if (input.order !== undefined && input.order !== state.o) conflicts.push('order');
  if (input.orderBy !== undefined && input.orderBy !== state.b) conflicts.push('orderBy');
  if (conflicts.length > 0) {
    throw new ApiError(
      'cursorConflict',
      `cursor: the cursor carries the filters and order; send only cursor and pageSize (${conflicts.join(', ')} differ${conflicts.length === 1 ? 's' : ''} from the cursor's)`,
    );
  }
}

/** The value a row sorts by, as the shard's SQL sees it. */
export function sortValue(e: StoredEvent, field: SortField): SortValue {
  switch (field) {
    case 'date':
      return e.dateMs;
    case 'createdAt':
      return e.createdMs;
    case 'insight':
      return e.insight ?? '';
    case 'killChain':
      return e.killChain;
    case 'hasChildren':
      return e.hasChildren ? 1 : 0;
    case 'uuid':
      return e.id;
    default:
      return e[field];
  }
}

/**
 * Orders text as the shards' SQL does (BINARY collation: UTF-8 bytes, that is code points).
 * JavaScript's `<` compares UTF-16 units, which puts astral characters (emoji) below
 * U+E000–U+FFFF; merging shards in that order would skip rows when paging by cursor.
 */
function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    if (xSurrogate !== ySurrogate) return xSurrogate ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

function compareKeys(a: RowKey, b: RowKey, order: 'asc' | 'desc'): number {
  let c: number;
  if (typeof a.value === 'string' && typeof b.value === 'string') c = compareText(a.value, b.value);
  else c = a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
  if (c === 0) c = a.id - b.id;
  return order === 'asc' ? c : -c;
}

/** E01: searches every shard of every requested dataset and merges the pages. */
export async function listEvents(
  ctx: Ctx,
  input: ListEventsInput,
): Promise<{ events: ThreatEventView[]; resultInfo: ResultInfo }> {
  const pageSize = input.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw invalidInput(`pageSize: must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${input.pageSize}`);
  }
  let state: Omit<CursorState, 'a'> & { a?: CursorState['a'] };
  if (input.cursor !== undefined) {
    const decoded = decodeCursor(input.cursor);
    checkCursorCompatible(decoded, input);
    state = decoded;
  } else {
    const page = input.page ?? 1;
    if (!Number.isInteger(page) || page < 1)
      throw invalidInput(`page: must be an integer ≥ 1, got ${input.page}`);
    const order = input.order ?? 'desc';
    if (order !== 'asc' && order !== 'desc')
      throw invalidInput(`order: must be "asc" or "desc", got ${JSON.stringify(order)}`);
    const orderBy = input.orderBy ?? 'date';
    if (!(SORT_FIELDS as readonly string[]).includes(orderBy)) {
      throw invalidInput(
        `orderBy: unknown field ${JSON.stringify(orderBy)}; expected one of ${SORT_FIELDS.join(', ')}`,
      );
    }
    state = { v: 1, d: input.datasetId, s: input.search, o: order, b: orderBy as SortField, p: page };
  }
  const offset = state.a ? 0 : (state.p - 1) * pageSize;
  if (offset > MAX_OFFSET) {
    throw invalidInput(
      `page: offset ${offset} is beyond ${MAX_OFFSET}; page deeper with the cursor from result_info.cursor instead`,
    );
  }
  const conditions = validateConditions(state.s ?? []);
  const datasets = resolveDatasets(ctx, state.d, 'datasetId');
  const shards = datasets.flatMap((d) =>
    ctx.stores
      .catalog(ctx.accountId)
      .shardsOf(d.uuid)
      .map((s) => ({ shardId: s.id, datasetId: d.uuid })),
  );

  const query: ShardQuery = {
    conditions,
    orderBy: state.b,
    order: state.o,
    limit: offset + pageSize + 1,
    offset: 0,
    ...(state.a ? { after: { value: state.a.k, id: state.a.i } } : {}),
  };

  // Sent before the page is fetched, so a shard in another thread answers both back to back.
  const counting = Promise.all(shards.map((s) => ctx.stores.shards.count(addr(ctx, s.shardId), conditions)));
  counting.catch(() => undefined); // if the page fails first, its error is the one reported
  let rows: { event: StoredEvent; datasetId: string }[] = [];
  let hasMore = false;
  if (shards.length === 1 && pageSize <= FETCH_CHUNK) {
    const only = shards[0] as { shardId: string; datasetId: string };
    const found = await ctx.stores.shards.search(addr(ctx, only.shardId), {
      ...query,
      limit: pageSize + 1,
      offset,
    });
    hasMore = found.length > pageSize;
    rows = found.slice(0, pageSize).map((event) => ({ event, datasetId: only.datasetId }));
  } else if (shards.length === 1) {
    // A large page: its keys first, then its rows a chunk at a time, so neither thread builds
    // and copies 25,000 events in one go (each chunk is garbage before the next is asked for).
    const only = shards[0] as { shardId: string; datasetId: string };
    const at = addr(ctx, only.shardId);
    const keys = await ctx.stores.shards.searchKeys(at, { ...query, limit: pageSize + 1, offset });
    hasMore = keys.length > pageSize;
    const ids = keys.slice(0, pageSize).map((k) => k.id);
    for (let from = 0; from < ids.length; from += FETCH_CHUNK) {
      for (const event of await ctx.stores.shards.getByKeys(at, ids.slice(from, from + FETCH_CHUNK)))
        rows.push({ event, datasetId: only.datasetId });
    }
  } else if (shards.length > 1) {
    // Merge the sort keys of every shard, then fetch only the rows of the page.
    const keyed: (RowKey & { shard: number })[] = [];
    const perShard = await Promise.all(
      shards.map((s) => ctx.stores.shards.searchKeys(addr(ctx, s.shardId), query)),
    );
    perShard.forEach((keys, shard) => {
      for (const k of keys) keyed.push({ ...k, shard });
    });
    keyed.sort((a, b) => compareKeys(a, b, state.o));
    hasMore = keyed.length > offset + pageSize;
    const pageKeys = keyed.slice(offset, offset + pageSize);
    const byShard = new Map<number, number[]>();
    for (const k of pageKeys) {
      const list = byShard.get(k.shard) ?? [];
      list.push(k.id);
      byShard.set(k.shard, list);
    }
    const fetched = new Map<string, { event: StoredEvent; datasetId: string }>();
    await Promise.all(
      [...byShard].map(async ([shard, ids]) => {
        const s = shards[shard] as { shardId: string; datasetId: string };
        for (let from = 0; from < ids.length; from += FETCH_CHUNK) {
          const chunk = ids.slice(from, from + FETCH_CHUNK);
          for (const event of await ctx.stores.shards.getByKeys(addr(ctx, s.shardId), chunk))
            fetched.set(`${shard}:${event.id}`, { event, datasetId: s.datasetId });
        }
      }),
    );
    rows = pageKeys.flatMap((k) => fetched.get(`${k.shard}:${k.id}`) ?? []);
  }

  const counts = await counting;
  const total = counts.reduce((a, b) => a + b, 0);
  const last = rows[rows.length - 1];
  const resultInfo: ResultInfo = {
    page: state.p,
    per_page: pageSize,
    count: rows.length,
    total_count: total,
    total_pages: Math.ceil(total / pageSize),
  };
  if (hasMore && last) {
    resultInfo.cursor = encodeCursor({
      v: 1,
      d: state.d,
      s: state.s,
      o: state.o,
      b: state.b,
      a: { k: sortValue(last.event, state.b), i: last.event.id },
      p: state.p + 1,
    });
  }
  return { events: toEventViews(ctx, rows), resultInfo };
}
