import Cloudflare from 'cloudflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AggRow,
  countByHand,
  type ListedEvent,
  type Question,
  variedEvents,
} from '../analytics/support.ts';
import { envelope, TestServer } from './server.ts';

interface AggregateResult {
  aggregateBy: string;
  aggregations: AggRow[];
  total: number;
  groupCount: number;
  dateRange?: { startDate?: string; endDate?: string };
}

const DAY = 86_400_000;

describe('e2e: aggregations and GraphQL through the SDK and plain HTTP (E12–E14)', () => {
  // Small shards, so every answer is merged from several.
  const server = new TestServer({ env: { THREATDESK_SHARD_MAX_EVENTS: '8' } });
  let client: Cloudflare;
  let account_id: string;
  let first: string;
  let second: string;
  let events: ListedEvent[];
  /** Date-only bounds around the middle of the events. */
  let startDate: string;
  let endDate: string;

  /** Every event of a dataset, paged through the SDK's list. */
  async function listAll(datasetId: string): Promise<ListedEvent[]> {
    const out: ListedEvent[] = [];
    for (let page = 1; ; page++) {
      const body = await envelope<ListedEvent[]>(
        client.cloudforceOne.threatEvents.list({ account_id, datasetId: [datasetId], page, pageSize: 10 }),
      );
      out.push(...body.result);
      if (page >= (body.result_info?.total_pages ?? 0)) return out;
    }
  }

  async function createDataset(name: string): Promise<string> {
    const body = await envelope<{ uuid: string }>(
      client.cloudforceOne.threatEvents.datasets.create({ account_id, name, isPublic: false }),
    );
    return body.result.uuid;
  }

  async function post(path: string, body: unknown, token: string | null = server.token) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${server.baseURL}/accounts/${account_id}/cloudforce-one${path}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  }

  beforeAll(async () => {
    await server.start();
    client = server.client();
    account_id = server.account;
    first = await createDataset('Feed A');
    second = await createDataset('Feed B');
    const te = client.cloudforceOne.threatEvents;
    for (const [datasetId, data] of [
      [first, variedEvents(30, 800)],
      [second, variedEvents(20, 900)],
    ] as const) {
      const { response } = await te
        .bulkCreate({
          account_id,
          datasetId,
          data: data as unknown as Parameters<typeof te.bulkCreate>[0]['data'],
        })
        .withResponse();
      expect(response.status).toBe(202);
    }
    events = [...(await listAll(first)), ...(await listAll(second))];
    expect(events).toHaveLength(50);
    const dates = events.map((e) => e.date).sort();
    startDate = (dates[10] as string).slice(0, 10);
    endDate = (dates[35] as string).slice(0, 10);
  });

  afterAll(async () => {
    expect(await server.disposeTakingErrors()).toBe('');
  });

  it('aggregate.list answers the envelope with exact counts over several datasets, per day', async () => {
    const body = await envelope<AggregateResult>(
      client.cloudforceOne.threatEvents.aggregate.list({
        account_id,
        aggregateBy: 'attacker,targetIndustry',
        datasetId: [first, second],
        groupByDate: true,
        startDate,
        endDate,
        limit: 12,
      }),
    );
    expect(body.success).toBe(true);
    expect(body.errors).toEqual([]);
    const q: Question = {
      by: ['attacker', 'targetIndustry'],
      interval: 'day',
      startMs: Date.parse(startDate),
      endMs: Date.parse(endDate) + DAY - 1,
      limit: 12,
    };
    const want = countByHand(events, q);
    expect(want.total).toBeGreaterThan(10);
    expect(want.total).toBeLessThan(events.length);
    expect(body.result.aggregateBy).toBe('attacker,targetIndustry');
    expect(body.result.aggregations).toEqual(want.rows);
    expect(body.result.aggregations).toHaveLength(12);
    expect(body.result.total).toBe(want.total);
    expect(body.result.groupCount).toBe(want.groupCount);
    expect(body.result.dateRange).toEqual({
      startDate: `${startDate}T00:00:00.000Z`,
      endDate: `${endDate}T23:59:59.999Z`,
    });
  });

  it('aggregate.list without dates or limit counts every event of the datasets, by list elements', async () => {
    const body = await envelope<AggregateResult>(
      client.cloudforceOne.threatEvents.aggregate.list({
        account_id,
        aggregateBy: 'tags',
        datasetId: [first, second],
      }),
    );
    const want = countByHand(events, { by: ['tags'] });
    expect(body.result.aggregations).toEqual(want.rows);
    expect(body.result.total).toBe(events.length);
    expect(body.result.aggregations.some((r) => r.tags === null)).toBe(true);
  });

  it('aggregate.list with a bad column raises BadRequestError naming aggregateBy', async () => {
    const err = await client.cloudforceOne.threatEvents.aggregate
      .list({ account_id, aggregateBy: 'victim', datasetId: [first] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(Cloudflare.BadRequestError);
    const bad = err as InstanceType<typeof Cloudflare.BadRequestError>;
    expect(bad.status).toBe(400);
    expect(bad.errors.map((e) => e.message).join('\n')).toMatch(/aggregateBy/);
  });

  it('graphql.create sends no body: BadRequestError (400) saying a query is needed', async () => {
    const err = await client.cloudforceOne.threatEvents.graphql.create({ account_id }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Cloudflare.BadRequestError);
    const bad = err as InstanceType<typeof Cloudflare.BadRequestError>;
    expect(bad.status).toBe(400);
    expect(bad.errors.map((e) => e.message).join('\n')).toMatch(/query is required/);
  });

  for (const path of ['/v2/events/graphql', '/events/graphql']) {
    it(`POST ${path} answers a real query with the numbers E12 gives`, async () => {
      const query = `query($ds: [String!], $from: String, $to: String) {
        weekly: aggregate(groupBy: [attacker, tags], datasetIds: $ds, interval: week, limit: 8) {
          total groupCount groups { attacker tags date count }
        }
        byIndustry: aggregate(groupBy: [targetIndustry], datasetIds: $ds, startDate: $from, endDate: $to) {
          total groups { targetIndustry count }
        }
        dimensions
      }`;
      const res = await post(path, {
        query,
        variables: { ds: [first, second], from: startDate, to: endDate },
      });
      expect(res.status).toBe(200);
      expect(res.body.success).toBe(true);
      expect(res.body.result.errors).toBeUndefined();
      const data = res.body.result.data;
      const weekly = countByHand(events, { by: ['attacker', 'tags'], interval: 'week', limit: 8 });
      expect(data.weekly.groups).toEqual(weekly.rows);
      expect(data.weekly.total).toBe(events.length);
      expect(data.weekly.groupCount).toBe(weekly.groupCount);
      const inRange = countByHand(events, {
        by: ['targetIndustry'],
        startMs: Date.parse(startDate),
        endMs: Date.parse(endDate) + DAY - 1,
      });
      expect(inRange.total).toBeLessThan(events.length);
      expect(data.byIndustry.groups).toEqual(inRange.rows);
      expect(data.byIndustry.total).toBe(inRange.total);
      expect(data.dimensions).toContain('mitreAttack');

      // The same question through the SDK's E12.
      const rest = await envelope<AggregateResult>(
        client.cloudforceOne.threatEvents.aggregate.list({
          account_id,
          aggregateBy: 'targetIndustry',
          datasetId: [first, second],
          startDate,
          endDate,
        }),
      );
      expect(data.byIndustry.groups).toEqual(rest.result.aggregations);
    });

    it(`POST ${path}: GraphQL errors come back inside result, with 400`, async () => {
      const syntax = await post(path, { query: '{ aggregate(groupBy: [attacker] { total }' });
      expect(syntax.status).toBe(400);
      expect(syntax.body.success).toBe(false);
      expect(syntax.body.result.data).toBeNull();
      expect(syntax.body.result.errors[0].message).toMatch(/Syntax Error/);
      const enumValue = await post(path, { query: '{ aggregate(groupBy: [victim]) { total } }' });
      expect(enumValue.status).toBe(400);
      expect(enumValue.body.result.errors[0].message).toMatch(/victim/);
      const none = await post(path, { query: '{ dimensions }' }, null);
      expect(none.status).toBe(401);
    });
  }
});
