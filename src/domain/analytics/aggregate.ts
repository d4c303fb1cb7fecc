import { AGG_DIMENSIONS, type AggDimension, type AggGroup, type Bucket } from '../../store/shard/columns.ts';
import type { Ctx } from '../context.ts';
import { resolveDatasets } from '../datasets/datasets.ts';
import { invalidInput } from '../errors.ts';
import { addr } from '../events/events.ts';
import { parseIsoDate, type RawCondition, validateConditions } from '../events/search.ts';

export { AGG_DIMENSIONS, type AggDimension, type Bucket };

export const DEFAULT_AGG_LIMIT = 1000;
export const MAX_AGG_LIMIT = 100_000;
const DAY = 86_400_000;

/** An aggregation question, as REST (E12) and GraphQL (E13/E14) both ask it. */
export interface AggregateInput {
  aggregateBy: readonly string[];
  datasetIds?: readonly string[] | undefined;
  startDate?: string | undefined;
  endDate?: string | undefined;
  bucket?: Bucket | undefined;
  limit?: number | undefined;
  search?: readonly RawCondition[] | undefined;
}

export interface AggregateRow {
  count: number;
  date?: string;
  [column: string]: string | number | null | undefined;
}

export interface AggregateResult {
  aggregateBy: string;
  aggregations: AggregateRow[];
  total: number;
  /** Number of groups before `limit` was applied. */
  groupCount: number;
  dateRange: { startDate?: string; endDate?: string };
}

/**
 * E12: exact counts of events grouped by one or more columns (lists count each element), over
 * every shard of every requested dataset — never sampled, never capped before grouping. `total`
 * is the number of events aggregated. Rows are ordered by count, then date, then values.
 */
export async function aggregateEvents(ctx: Ctx, input: AggregateInput): Promise<AggregateResult> {
  if (input.aggregateBy.length === 0) {
    throw invalidInput(`aggregateBy: required, one or more of ${AGG_DIMENSIONS.join(', ')}`);
  }
  const issues: string[] = [];
  const by: AggDimension[] = [];
  for (const col of input.aggregateBy) {
    if (!(AGG_DIMENSIONS as readonly string[]).includes(col)) {
      issues.push(
        `aggregateBy: unknown column ${JSON.stringify(col)}; expected ${AGG_DIMENSIONS.join(', ')}`,
      );
    } else if (by.includes(col as AggDimension)) {
      issues.push(`aggregateBy: ${col} is named twice`);
    } else by.push(col as AggDimension);
  }
  if (by.length > 4) issues.push('aggregateBy: at most 4 columns');
  const startMs = input.startDate === undefined ? undefined : parseIsoDate(input.startDate);
  const endMs = input.endDate === undefined ? undefined : parseIsoDate(input.endDate);
  if (input.startDate !== undefined && startMs === undefined)
    issues.push(`startDate: ${JSON.stringify(input.startDate)} is not an ISO 8601 date`);
  if (input.endDate !== undefined && endMs === undefined)
    issues.push(`endDate: ${JSON.stringify(input.endDate)} is not an ISO 8601 date`);
  if (startMs !== undefined && endMs !== undefined && startMs > endMs)
    issues.push('startDate: after endDate');
  const limit = input.limit ?? DEFAULT_AGG_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AGG_LIMIT)
    issues.push(`limit: an integer from 1 to ${MAX_AGG_LIMIT}`);
  if (issues.length) throw invalidInput(issues);
  const conditions = validateConditions(input.search ?? []);
  // A date-only endDate includes that whole day.
  const endInclusive =
    endMs !== undefined && input.endDate && /^\d{4}-\d{2}-\d{2}$/.test(input.endDate)
      ? endMs + DAY - 1
      : endMs;
  const bucket = input.bucket ?? 'none';
  const datasets = resolveDatasets(ctx, input.datasetIds, 'datasetId', { allExcludesAnalytics: true });

  const shards = datasets.flatMap((d) => ctx.stores.catalog(ctx.accountId).shardsOf(d.uuid));
  const merged = new Map<string, AggGroup>();
  let total = 0;
  let groupCount = 0;
  let groups: AggGroup[] = [];
  if (shards.length === 1) {
    // One shard is the whole answer: it can keep only the groups that make the top N.
    const part = await ctx.stores.shards.aggregate(
      addr(ctx, (shards[0] as { id: string }).id),
      { by, bucket, startMs, endMs: endInclusive, top: limit },
      conditions,
    );
    total = part.total;
    groupCount = part.groupCount;
    groups = part.groups;
  } else {
    for (const shard of shards) {
      const part = await ctx.stores.shards.aggregate(
        addr(ctx, shard.id),
        { by, bucket, startMs, endMs: endInclusive },
        conditions,
      );
      total += part.total;
      for (const g of part.groups) {
        const k = JSON.stringify([g.key, g.bucket]);
        const found = merged.get(k);
        if (found) found.count += g.count;
        else merged.set(k, { ...g });
      }
    }
    groups = [...merged.values()];
    groupCount = groups.length;
  }
  const top = topN(groups, limit);
  const aggregations = top.map((g) => {
    const row: AggregateRow = { count: g.count };
    by.forEach((col, i) => {
      row[col] = g.key[i] ?? null;
    });
    if (bucket !== 'none') row.date = new Date(g.bucket * DAY).toISOString().slice(0, 10);
    return row;
  });
  const dateRange: AggregateResult['dateRange'] = {};
  if (startMs !== undefined) dateRange.startDate = new Date(startMs).toISOString();
  if (endInclusive !== undefined) dateRange.endDate = new Date(endInclusive).toISOString();
  return { aggregateBy: by.join(','), aggregations, total, groupCount, dateRange };
}

function compareGroups(a: AggGroup, b: AggGroup): number {
  if (a.count !== b.count) return b.count - a.count;
  if (a.bucket !== b.bucket) return a.bucket - b.bucket;
  for (let i = 0; i < a.key.length; i++) {
    const x = String(a.key[i] ?? '');
    const y = String(b.key[i] ?? '');
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** The first `n` groups in order, without sorting them all when n is small. */
function topN(groups: AggGroup[], n: number): AggGroup[] {
  if (groups.length <= n * 4) return groups.sort(compareGroups).slice(0, n);
  // Threshold on count first: keep only groups that can be in the top n.
  const counts = groups.map((g) => g.count).sort((a, b) => b - a);
  const threshold = counts[n - 1] ?? 0;
  return groups
    .filter((g) => g.count >= threshold)
    .sort(compareGroups)
    .slice(0, n);
}
