import { expect } from 'vitest';
import { makeEvent, type TestAccount } from '../helpers.ts';

/** An indicator as E54 lists it. */
export interface ListedIndicator {
  uuid: string;
  value: string;
  indicatorType: string;
  createdAt: string;
  datasetId: string;
  relatedEvents?: { datasetId: string; eventId: string; eventDate: string | null }[];
  relatedEventsHasMore?: boolean;
  tags?: { uuid: string; value: string; categoryId: string | null }[];
  sources?: unknown[];
}

/** A new private dataset; answers its uuid. */
export async function newDataset(account: TestAccount, name = 'Intel feed'): Promise<string> {
  const res = await account.call('POST', '/events/dataset/create', { name, isPublic: false });
  expect(res.status).toBe(200);
  return res.body.result.uuid;
}

/** Creates one event through E02 (fails the test otherwise); answers the ThreatEvent. */
export async function createEvent(
  account: TestAccount,
  overrides: Record<string, unknown> = {},
): Promise<{
  uuid: string;
  datasetId: string;
  createdAt: string;
  indicator: string;
  indicatorType: string;
  tags: string[];
}> {
  const res = await account.call('POST', '/events/create', makeEvent(overrides));
  if (res.status !== 200) throw new Error(`create answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.result;
}

/** GET /events/indicators?<query>; fails the test unless 200. */
export async function listIndicators(account: TestAccount, query = '') {
  const res = await account.call('GET', `/events/indicators${query ? `?${query}` : ''}`);
  if (res.status !== 200)
    throw new Error(`GET /events/indicators?${query} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as {
    messages: { code: number; message: string }[];
    result: {
      indicators: ListedIndicator[];
      pagination: {
        count: number;
        cursor: string | null;
        has_more: boolean;
        page: number;
        per_page: number;
        total_count: number | null;
        total_count_is_exact: boolean;
      };
    };
  };
}

/** One search condition in the SDK's dotted spelling (`search.field=…&search.op=…&search.value=…`). */
export function cond(name: string, field: string, op: string, value: string | string[]): string {
  const q = new URLSearchParams();
  q.append(`${name}.field`, field);
  q.append(`${name}.op`, op);
  for (const v of Array.isArray(value) ? value : [value]) q.append(`${name}.value`, v);
  return q.toString();
}

/** Values of the listed indicators, sorted. */
export const valuesOf = (list: readonly { value: string }[]): string[] => list.map((i) => i.value).sort();
