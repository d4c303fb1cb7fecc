import { expect } from 'vitest';
import type { ApiBody, TestAccount } from '../helpers.ts';

/** One search condition as the SDK sends it. */
export interface Cond {
  field: string;
  op: string;
  value: string | number | boolean | (string | number | boolean)[];
}

/** The SDK's dotted repeat spelling: `search.field=…&search.op=…&search.value=…` per condition. */
export function dotted(conditions: readonly Cond[]): string {
  const q = new URLSearchParams();
  for (const c of conditions) {
    q.append('search.field', c.field);
    q.append('search.op', c.op);
    for (const v of Array.isArray(c.value) ? c.value : [c.value]) q.append('search.value', String(v));
  }
  // URLSearchParams writes spaces as '+'; the SDK writes %20 (both decode the same).
  return q.toString().replace(/\+/g, '%20');
}

/** GET /events with a raw query string; fails the test unless it answers 200. */
export async function list(account: TestAccount, query: string): Promise<ApiBody> {
  const res = await account.call('GET', `/events${query ? `?${query}` : ''}`);
  if (res.status !== 200)
    throw new Error(`GET /events?${query} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The uuids of the events matching the conditions (default dataset, one big page). */
export async function uuidsFor(
  account: TestAccount,
  conditions: readonly Cond[],
  extra = '',
): Promise<string[]> {
  const body = await list(account, `${dotted(conditions)}&pageSize=1000${extra}`);
  return (body.result as { uuid: string }[]).map((e) => e.uuid);
}

/** Follows result_info.cursor from a first query until the last page; answers every uuid seen, in order. */
export async function walkCursor(
  account: TestAccount,
  firstQuery: string,
  pageSize: number,
): Promise<string[]> {
  const seen: string[] = [];
  let body = await list(account, `${firstQuery}&pageSize=${pageSize}`);
  for (let guard = 0; guard < 10_000; guard++) {
    const page = body.result as { uuid: string }[];
    expect(page.length).toBeLessThanOrEqual(pageSize);
    seen.push(...page.map((e) => e.uuid));
    const cursor: string | undefined = body.result_info.cursor;
    if (cursor === undefined) return seen;
    expect(page.length).toBe(pageSize);
    body = await list(account, `cursor=${encodeURIComponent(cursor)}&pageSize=${pageSize}`);
  }
  throw new Error('cursor walk did not end');
}

/** The fields of a ThreatEvent the tests read most. */
export type CreatedEvent = Record<string, unknown> & {
  uuid: string;
  createdAt: string;
  date: string;
  datasetId: string;
  rawId: string;
};

/** Creates one event through E02 and answers the ThreatEvent the API returned. */
export async function create(account: TestAccount, body: Record<string, unknown>): Promise<CreatedEvent> {
  const res = await account.call('POST', '/events/create', body);
  if (res.status !== 200) throw new Error(`create answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.result;
}

/** Compares two values the way the store orders them (numbers numerically, text by code unit). */
export function compareValues(a: string | number, b: string | number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}

/** Sorts events by a key then uuid, both in the same direction, as the API promises. */
export function sortByKey<T extends { uuid: string }>(
  events: readonly T[],
  key: (e: T) => string | number,
  order: 'asc' | 'desc',
): T[] {
  const dir = order === 'asc' ? 1 : -1;
  return [...events].sort((a, b) => dir * (compareValues(key(a), key(b)) || compareValues(a.uuid, b.uuid)));
}
