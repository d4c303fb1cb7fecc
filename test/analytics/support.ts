import { expect } from 'vitest';
import { makeEvent, type TestAccount } from '../helpers.ts';

/** Every dimension E12 and GraphQL group by. */
export const DIMENSIONS = [
  'attacker',
  'attackerCountry',
  'category',
  'indicatorType',
  'targetCountry',
  'targetIndustry',
  'tlp',
  'killChain',
  'tags',
  'mitreAttack',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];
const LISTS: readonly string[] = ['tags', 'mitreAttack'];

/** An event as GET /events lists it (the fields aggregations read). */
export type ListedEvent = Record<string, unknown> & { uuid: string; date: string; datasetId: string };

/** One aggregation row: count, one key per column, date with buckets. */
export type AggRow = Record<string, string | number | null> & { count: number };

export type Interval = 'day' | 'week' | 'month';

/** A question asked of both the reference counter and the server. */
export interface Question {
  by: readonly Dimension[];
  interval?: Interval;
  /** Inclusive bounds, in ms. */
  startMs?: number;
  endMs?: number;
  limit?: number;
}

const DAY = 86_400_000;

/** The first day (YYYY-MM-DD) of the bucket an ISO date falls in; ISO weeks start on Monday. */
export function bucketOf(date: string, interval: Interval): string {
  const d = new Date(date);
  const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (interval === 'day') return new Date(midnight).toISOString().slice(0, 10);
  if (interval === 'month')
    return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)).toISOString().slice(0, 10);
  const sinceMonday = (d.getUTCDay() + 6) % 7;
  return new Date(midnight - sinceMonday * DAY).toISOString().slice(0, 10);
}

/** The values an event contributes for one column: each element of a list, null for an empty one. */
function valuesOf(e: ListedEvent, col: Dimension): (string | number | null)[] {
  const v = e[col];
  if (LISTS.includes(col)) {
    const list = (v ?? []) as (string | number)[];
    return list.length === 0 ? [null] : [...new Set(list)];
  }
  if (v === '' || v === undefined || v === null) return [null];
  return [v as string | number];
}

/** The server's documented order: count desc, then date, then the values (as text). */
export function compareRows(by: readonly string[]): (a: AggRow, b: AggRow) => number {
  return (a, b) => {
    if (a.count !== b.count) return b.count - a.count;
    const da = String(a.date ?? '');
    const db = String(b.date ?? '');
    if (da !== db) return da < db ? -1 : 1;
    for (const col of by) {
      const x = String(a[col] ?? '');
      const y = String(b[col] ?? '');
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  };
}

/** Counts the events the way E12 promises, by hand: the reference every test compares against. */
export function countByHand(
  events: readonly ListedEvent[],
  q: Question,
): { rows: AggRow[]; total: number; groupCount: number } {
  const groups = new Map<string, AggRow>();
  let total = 0;
  for (const e of events) {
    const ms = Date.parse(e.date);
    if (q.startMs !== undefined && ms < q.startMs) continue;
    if (q.endMs !== undefined && ms > q.endMs) continue;
    total++;
    let combos: (string | number | null)[][] = [[]];
    for (const col of q.by) combos = combos.flatMap((c) => valuesOf(e, col).map((v) => [...c, v]));
    const date = q.interval ? bucketOf(e.date, q.interval) : undefined;
    for (const combo of combos) {
      const key = JSON.stringify([combo, date]);
      const found = groups.get(key);
      if (found) found.count++;
      else {
        const row: AggRow = { count: 1 };
        q.by.forEach((col, i) => {
          row[col] = combo[i] ?? null;
        });
        if (date !== undefined) row.date = date;
        groups.set(key, row);
      }
    }
  }
  const rows = [...groups.values()].sort(compareRows(q.by));
  return { rows: rows.slice(0, q.limit ?? 1000), total, groupCount: rows.length };
}

/** Every event of the datasets, paged through GET /events a few at a time. */
export async function listAll(account: TestAccount, datasetIds: readonly string[]): Promise<ListedEvent[]> {
  const out: ListedEvent[] = [];
  for (const datasetId of datasetIds) {
    for (let page = 1; ; page++) {
      const res = await account.call('GET', `/events?datasetId=${datasetId}&page=${page}&pageSize=7`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const events = res.body.result as ListedEvent[];
      out.push(...events);
      if (page >= res.body.result_info.total_pages) break;
    }
  }
  expect(new Set(out.map((e) => e.uuid)).size).toBe(out.length);
  return out;
}

/** The E12 query string of a question. */
export function restQuery(q: Question, datasetIds: readonly string[], extra = ''): string {
  const p = new URLSearchParams({ aggregateBy: q.by.join(',') });
  for (const d of datasetIds) p.append('datasetId', d);
  if (q.interval) p.set('interval', q.interval);
  if (q.startMs !== undefined) p.set('startDate', new Date(q.startMs).toISOString());
  if (q.endMs !== undefined) p.set('endDate', new Date(q.endMs).toISOString());
  if (q.limit !== undefined) p.set('limit', String(q.limit));
  return `${p.toString()}${extra}`;
}

/** Asks E12; fails the test unless it answers 200. */
export async function aggregate(
  account: TestAccount,
  query: string,
): Promise<{
  aggregateBy: string;
  aggregations: AggRow[];
  total: number;
  groupCount: number;
  dateRange: Record<string, string>;
}> {
  const res = await account.call('GET', `/events/aggregate?${query}`);
  if (res.status !== 200)
    throw new Error(`aggregate?${query} answered ${res.status}: ${JSON.stringify(res.body)}`);
  expect(res.body.success).toBe(true);
  return res.body.result;
}

/** Asks E12 the question and checks it against the events, counted by hand. */
export async function expectAggregation(
  account: TestAccount,
  datasetIds: readonly string[],
  events: readonly ListedEvent[],
  q: Question,
): Promise<void> {
  const got = await aggregate(account, restQuery(q, datasetIds));
  const want = countByHand(events, q);
  const label = JSON.stringify(q);
  expect(got.aggregations, label).toEqual(want.rows);
  expect(got.total, label).toBe(want.total);
  expect(got.groupCount, label).toBe(want.groupCount);
  expect(got.aggregateBy, label).toBe(q.by.join(','));
}

const ATTACKERS = ['Flying Yeti', 'Sandworm', 'Turla', 'Kimsuky', ''];
const COUNTRIES = ['RU', 'CN', 'KP', 'IR'];
const TARGETS = ['US', 'DE', 'GB'];
const INDUSTRIES = ['Agriculture', 'Government', 'Finance', 'Energy'];
const CATEGORIES = ['Domain Resolution', 'Malware', 'Phishing'];
const TYPES = ['domain', 'ip', 'url'];
const TLPS = ['amber', 'green', 'red', 'clear'];
const TAGS = ['malware', 'botnet', 'phishing', 'c2'];
const TECHNIQUES = ['T1566', 'T1059', 'T1071'];

/**
 * A varied batch of event bodies: every dimension takes several values, some events have no tags or
 * no techniques, several share tags, and dates run from late December over a year change into March.
 */
export function variedEvents(count: number, seed = 0): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => {
    const n = i + seed;
    const tags = TAGS.filter((_, k) => (n + k) % 3 === 0).slice(0, (n % 4) + 1);
    return makeEvent({
      // 3 to 5 days apart, at varied hours: several events per week, a few per day.
      date: new Date(Date.UTC(2024, 11, 20) + n * 2.5 * DAY + (n % 5) * 5 * 3_600_000).toISOString(),
      attacker: ATTACKERS[n % ATTACKERS.length],
      attackerCountry: COUNTRIES[n % COUNTRIES.length],
      targetCountry: TARGETS[(n * 7) % TARGETS.length],
      targetIndustry: INDUSTRIES[(n * 3) % INDUSTRIES.length],
      category: CATEGORIES[n % CATEGORIES.length],
      indicatorType: TYPES[n % TYPES.length],
      indicator: [`evil${n}.example`, `198.51.100.${n % 250}`, `https://evil${n}.example/x`][
        n % TYPES.length
      ],
      tlp: TLPS[(n * 5) % TLPS.length],
      killChain: n % 7,
      tags: n % 6 === 5 ? [] : tags,
      mitreAttack: TECHNIQUES.filter((_, k) => (n >> k) & 1),
    });
  });
}

/** Creates a dataset and answers its uuid. */
export async function createDataset(
  account: TestAccount,
  name: string,
  isAnalytics = false,
): Promise<string> {
  const res = await account.call('POST', '/events/dataset/create', { name, isPublic: false, isAnalytics });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.result.uuid;
}

/** Bulk-creates events in a dataset (E03). */
export async function bulkCreate(
  account: TestAccount,
  datasetId: string,
  data: Record<string, unknown>[],
): Promise<void> {
  const res = await account.call('POST', '/events/create/bulk', { datasetId, data });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect(res.body.result.errorCount).toBe(0);
}
