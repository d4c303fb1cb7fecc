import { beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, makeTestApp, type TestAccount } from '../helpers.ts';
import {
  aggregate,
  bulkCreate,
  countByHand,
  createDataset,
  DIMENSIONS,
  expectAggregation,
  type ListedEvent,
  listAll,
  type Question,
  restQuery,
  variedEvents,
} from './support.ts';

const t = makeTestApp();
let account: TestAccount;
let main: string;
let events: ListedEvent[];

beforeAll(async () => {
  account = await t.account();
  main = await createDataset(account, 'Main');
  await bulkCreate(account, main, variedEvents(45));
  events = await listAll(account, [main]);
  expect(events).toHaveLength(45);
});

const DAY = 86_400_000;

describe('GET /events/aggregate (E12): columns', () => {
  for (const col of DIMENSIONS) {
    it(`counts by ${col}`, async () => {
      await expectAggregation(account, [main], events, { by: [col] });
    });
  }

  it('counts each element of a list, an event with no tags under null, and total counts events', async () => {
    const got = await aggregate(account, `aggregateBy=tags&datasetId=${main}`);
    const untagged = events.filter((e) => (e.tags as string[]).length === 0).length;
    expect(untagged).toBeGreaterThan(0);
    expect(got.aggregations.find((r) => r.tags === null)?.count).toBe(untagged);
    const elements = events.reduce((n, e) => n + Math.max(1, (e.tags as string[]).length), 0);
    expect(got.aggregations.reduce((n, r) => n + r.count, 0)).toBe(elements);
    expect(elements).toBeGreaterThan(events.length);
    expect(got.total).toBe(events.length);
  });

  const combos: Question['by'][] = [
    ['attacker', 'targetIndustry'],
    ['tags', 'mitreAttack'],
    ['tlp', 'killChain'],
    ['attackerCountry', 'tags'],
    ['category', 'indicatorType', 'targetCountry'],
    ['attacker', 'tags', 'mitreAttack'],
  ];
  for (const by of combos) {
    it(`counts by ${by.join(' × ')}`, async () => {
      await expectAggregation(account, [main], events, { by });
    });
  }

  it('accepts repeated aggregateBy parameters as well as a comma list', async () => {
    const comma = await aggregate(account, `aggregateBy=attacker,tlp&datasetId=${main}`);
    const repeated = await aggregate(account, `aggregateBy=attacker&aggregateBy=tlp&datasetId=${main}`);
    expect(repeated.aggregations).toEqual(comma.aggregations);
  });
});

describe('GET /events/aggregate (E12): dates', () => {
  it('groupByDate=true adds a daily date key', async () => {
    const got = await aggregate(account, `aggregateBy=attacker&groupByDate=true&datasetId=${main}`);
    expect(got.aggregations).toEqual(countByHand(events, { by: ['attacker'], interval: 'day' }).rows);
    for (const row of got.aggregations) expect(row.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('without groupByDate there is no date key', async () => {
    const got = await aggregate(account, `aggregateBy=attacker&datasetId=${main}`);
    for (const row of got.aggregations) expect(row).not.toHaveProperty('date');
  });

  for (const interval of ['day', 'week', 'month'] as const) {
    it(`interval=${interval} buckets by ${interval}`, async () => {
      await expectAggregation(account, [main], events, { by: ['tlp'], interval });
      await expectAggregation(account, [main], events, { by: ['tags', 'attacker'], interval });
    });
  }

  it('weeks start on Monday, also across a year change', async () => {
    const got = await aggregate(account, `aggregateBy=tlp&interval=week&datasetId=${main}`);
    for (const row of got.aggregations) expect(new Date(`${row.date}T00:00:00Z`).getUTCDay()).toBe(1);
    // 2024-12-30 is the Monday of the week holding 2025-01-01.
    const newYear = events.filter((e) => e.date >= '2024-12-30' && e.date < '2025-01-06').length;
    expect(newYear).toBeGreaterThan(0);
    const week = got.aggregations.filter((r) => r.date === '2024-12-30').reduce((n, r) => n + r.count, 0);
    expect(week).toBe(newYear);
  });

  it('months start on the first', async () => {
    const got = await aggregate(account, `aggregateBy=attacker&interval=month&datasetId=${main}`);
    const months = new Set(events.map((e) => `${e.date.slice(0, 7)}-01`));
    expect(months.size).toBeGreaterThanOrEqual(4);
    expect(new Set(got.aggregations.map((r) => r.date))).toEqual(months);
  });

  it('startDate and endDate are inclusive, to the millisecond', async () => {
    const sorted = [...events].sort((a, b) => a.date.localeCompare(b.date));
    const first = Date.parse((sorted[10] as ListedEvent).date);
    const last = Date.parse((sorted[30] as ListedEvent).date);
    await expectAggregation(account, [main], events, { by: ['attacker'], startMs: first, endMs: last });
    const got = await aggregate(
      account,
      restQuery({ by: ['attacker'], startMs: first, endMs: last }, [main]),
    );
    expect(got.total).toBe(21);
    // One millisecond later at the start and earlier at the end leaves the two boundary events out.
    const inner = await aggregate(
      account,
      restQuery({ by: ['attacker'], startMs: first + 1, endMs: last - 1 }, [main]),
    );
    expect(inner.total).toBe(19);
    expect(got.dateRange).toEqual({
      startDate: new Date(first).toISOString(),
      endDate: new Date(last).toISOString(),
    });
  });

  it('a date-time bound in the middle of a day splits that day', async () => {
    const a = await account.call('POST', '/events/dataset/create', { name: 'Split day', isPublic: false });
    const ds: string = a.body.result.uuid;
    await bulkCreate(account, ds, [
      makeEvent({ date: '2025-05-10T06:00:00Z', attacker: 'Morning' }),
      makeEvent({ date: '2025-05-10T18:00:00Z', attacker: 'Evening' }),
    ]);
    const after = await aggregate(
      account,
      `aggregateBy=attacker&datasetId=${ds}&startDate=2025-05-10T12:00:00Z`,
    );
    expect(after.aggregations).toEqual([{ attacker: 'Evening', count: 1 }]);
    const before = await aggregate(
      account,
      `aggregateBy=attacker&datasetId=${ds}&endDate=2025-05-10T12:00:00Z`,
    );
    expect(before.aggregations).toEqual([{ attacker: 'Morning', count: 1 }]);
  });

  it('a date-only endDate includes that whole day; a date-only startDate starts at midnight', async () => {
    const day = (events[20] as ListedEvent).date.slice(0, 10);
    const start = Date.parse(`${day}T00:00:00Z`);
    const got = await aggregate(account, `aggregateBy=tlp&datasetId=${main}&startDate=${day}&endDate=${day}`);
    const want = countByHand(events, { by: ['tlp'], startMs: start, endMs: start + DAY - 1 });
    expect(want.total).toBeGreaterThan(0);
    expect(got.aggregations).toEqual(want.rows);
    expect(got.total).toBe(want.total);
    expect(got.dateRange).toEqual({
      startDate: `${day}T00:00:00.000Z`,
      endDate: `${day}T23:59:59.999Z`,
    });
  });

  it('dates before 1970 fall in the right day, week and month', async () => {
    const ds = await createDataset(account, 'Old');
    await bulkCreate(account, ds, [
      makeEvent({ date: '1969-12-29T10:00:00Z', tlp: 'amber' }),
      makeEvent({ date: '1969-12-31T23:00:00Z', tlp: 'amber' }),
      makeEvent({ date: '1970-01-01T01:00:00Z', tlp: 'red' }),
      makeEvent({ date: '2025-01-01T01:00:00Z', tlp: 'red' }),
    ]);
    const old = await listAll(account, [ds]);
    for (const interval of ['day', 'week', 'month'] as const) {
      await expectAggregation(account, [ds], old, { by: ['tlp'], interval });
    }
    const week = await aggregate(account, `aggregateBy=tlp&interval=week&datasetId=${ds}`);
    expect(week.aggregations).toContainEqual({ tlp: 'amber', date: '1969-12-29', count: 2 });
    expect(week.aggregations).toContainEqual({ tlp: 'red', date: '1969-12-29', count: 1 });
  });
});

describe('GET /events/aggregate (E12): limit', () => {
  it('answers the top N groups by count, and groupCount counts every group', async () => {
    const all = countByHand(events, { by: ['attacker', 'tags'] });
    expect(all.groupCount).toBeGreaterThan(5);
    for (const limit of [1, 3, 5, all.groupCount, all.groupCount + 10]) {
      await expectAggregation(account, [main], events, { by: ['attacker', 'tags'], limit });
    }
    const top = await aggregate(account, `aggregateBy=attacker,tags&limit=3&datasetId=${main}`);
    expect(top.aggregations).toHaveLength(3);
    expect(top.groupCount).toBe(all.groupCount);
    const counts = all.rows.map((r) => r.count);
    expect(top.aggregations.map((r) => r.count)).toEqual(counts.slice(0, 3));
    expect(top.total).toBe(events.length);
  });

  it('keeps the top N when there are many more groups than N (with dates)', async () => {
    await expectAggregation(account, [main], events, {
      by: ['attacker', 'tags', 'mitreAttack'],
      interval: 'day',
      limit: 4,
    });
  });
});

describe('GET /events/aggregate (E12): datasets', () => {
  let second: string;
  let analytics: string;
  let secondEvents: ListedEvent[];
  let analyticsEvents: ListedEvent[];
  let defaultEvents: ListedEvent[];
  let defaultId: string;

  beforeAll(async () => {
    second = await createDataset(account, 'Second');
    await bulkCreate(account, second, variedEvents(17, 100));
    analytics = await createDataset(account, 'Analytics', true);
    await bulkCreate(account, analytics, variedEvents(9, 200));
    const datasets = await account.call('GET', '/events/dataset');
    defaultId = (datasets.body.result as { name: string; uuid: string }[]).find(
      (d) => d.name === 'Cloudforce One Threat Events',
    )?.uuid as string;
    expect(defaultId).toBeTruthy();
    await account.call('POST', '/events/create', makeEvent({ attacker: 'Default only', tlp: 'green' }));
    await account.call('POST', '/events/create', makeEvent({ attacker: 'Default only', tlp: 'red' }));
    secondEvents = await listAll(account, [second]);
    analyticsEvents = await listAll(account, [analytics]);
    defaultEvents = await listAll(account, [defaultId]);
  });

  it('without datasetId reads the default dataset', async () => {
    const got = await aggregate(account, 'aggregateBy=attacker,tlp');
    expect(got.aggregations).toEqual(countByHand(defaultEvents, { by: ['attacker', 'tlp'] }).rows);
    expect(got.total).toBe(defaultEvents.length);
  });

  it('sums several datasets', async () => {
    const both = [...events, ...secondEvents];
    await expectAggregation(account, [main, second], both, { by: ['attacker', 'tags'] });
    await expectAggregation(account, [main, second], both, { by: ['targetIndustry'], interval: 'week' });
    const got = await aggregate(account, `aggregateBy=tlp&datasetId=${main},${second}`);
    expect(got.total).toBe(events.length + secondEvents.length);
  });

  it('all (and *) means every non-analytics dataset', async () => {
    const everyOperational = await listAll(account, await operationalIds());
    expect(everyOperational.length).toBeGreaterThan(events.length + secondEvents.length);
    for (const scope of ['all', '*']) {
      const got = await aggregate(
        account,
        `aggregateBy=attacker,tags&datasetId=${encodeURIComponent(scope)}`,
      );
      const want = countByHand(everyOperational, { by: ['attacker', 'tags'] });
      expect(got.aggregations, scope).toEqual(want.rows);
      expect(got.total, scope).toBe(want.total);
    }
  });

  it('an analytics dataset is counted when named, and by the analytics scope', async () => {
    await expectAggregation(account, [analytics], analyticsEvents, { by: ['attacker'] });
    const scoped = await aggregate(account, 'aggregateBy=attacker&datasetId=analytics');
    expect(scoped.aggregations).toEqual(countByHand(analyticsEvents, { by: ['attacker'] }).rows);
  });

  async function operationalIds(): Promise<string[]> {
    const res = await account.call('GET', '/events/dataset');
    return (res.body.result as { uuid: string; isAnalytics: boolean }[])
      .filter((d) => !d.isAnalytics)
      .map((d) => d.uuid);
  }

  it("another account's dataset is 404", async () => {
    const other = await t.account();
    const res = await other.call('GET', `/events/aggregate?aggregateBy=attacker&datasetId=${main}`);
    expect(res.status).toBe(404);
    expect(res.body.success).toBe(false);
  });
});

describe('GET /events/aggregate (E12): search', () => {
  const searches: { label: string; conditions: { field: string; op: string; value: unknown }[] }[] = [
    { label: 'attacker equals', conditions: [{ field: 'attacker', op: 'equals', value: 'Sandworm' }] },
    { label: 'tags equals', conditions: [{ field: 'tags', op: 'equals', value: 'botnet' }] },
    { label: 'tags in', conditions: [{ field: 'tags', op: 'in', value: ['botnet', 'c2'] }] },
    { label: 'killChain gt', conditions: [{ field: 'killChain', op: 'gt', value: 3 }] },
    {
      label: 'two conditions',
      conditions: [
        { field: 'tlp', op: 'in', value: ['amber', 'red'] },
        { field: 'targetIndustry', op: 'not', value: 'Finance' },
      ],
    },
    { label: 'text contains', conditions: [{ field: 'event', op: 'contains', value: 'EVIL1' }] },
  ];

  for (const { label, conditions } of searches) {
    it(`counts only the events GET /events finds (${label})`, async () => {
      const search = encodeURIComponent(JSON.stringify(conditions));
      const found: ListedEvent[] = [];
      for (let page = 1; ; page++) {
        const res = await account.call(
          'GET',
          `/events?datasetId=${main}&search=${search}&page=${page}&pageSize=10`,
        );
        expect(res.status).toBe(200);
        found.push(...res.body.result);
        if (page >= res.body.result_info.total_pages) break;
      }
      expect(found.length).toBeGreaterThan(0);
      expect(found.length).toBeLessThan(events.length);
      for (const by of [['attacker'], ['tags', 'tlp']] as const) {
        const got = await aggregate(
          account,
          `aggregateBy=${by.join(',')}&datasetId=${main}&search=${search}`,
        );
        const want = countByHand(found, { by });
        expect(got.aggregations, label).toEqual(want.rows);
        expect(got.total, label).toBe(found.length);
      }
      // With a date range and buckets as well.
      const sorted = [...events].sort((a, b) => a.date.localeCompare(b.date));
      const startMs = Date.parse((sorted[5] as ListedEvent).date);
      const endMs = Date.parse((sorted[35] as ListedEvent).date);
      const q: Question = { by: ['attacker'], interval: 'week', startMs, endMs };
      const got = await aggregate(account, `${restQuery(q, [main])}&search=${search}`);
      expect(got.aggregations, label).toEqual(countByHand(found, q).rows);
    });
  }

  it('accepts the dotted search spelling of the SDK', async () => {
    const got = await aggregate(
      account,
      `aggregateBy=attacker&datasetId=${main}&search.field=tlp&search.op=equals&search.value=red`,
    );
    const want = countByHand(
      events.filter((e) => e.tlp === 'red'),
      { by: ['attacker'] },
    );
    expect(got.aggregations).toEqual(want.rows);
  });
});

describe('GET /events/aggregate (E12): exact across shards', () => {
  it('answers the same with shards of 7 events as with one shard', async () => {
    const sharded = makeTestApp({ shardMaxEvents: 7 });
    const single = makeTestApp();
    const a = await sharded.account();
    const b = await single.account();
    const body = variedEvents(60, 300);
    const dsA = await createDataset(a, 'Sharded');
    const dsB = await createDataset(b, 'Single');
    // In several bulk calls and single creates, so rows arrive in different shards at different times.
    await bulkCreate(a, dsA, body.slice(0, 25));
    await bulkCreate(b, dsB, body.slice(0, 25));
    await aggregate(a, `aggregateBy=tlp&datasetId=${dsA}`);
    await aggregate(b, `aggregateBy=tlp&datasetId=${dsB}`);
    await bulkCreate(a, dsA, body.slice(25, 55));
    await bulkCreate(b, dsB, body.slice(25, 55));
    for (const e of body.slice(55)) {
      expect((await a.call('POST', '/events/create', { ...e, datasetId: dsA })).status).toBe(200);
      expect((await b.call('POST', '/events/create', { ...e, datasetId: dsB })).status).toBe(200);
    }
    expect(sharded.stores.catalog(a.id).shardsOf(dsA).length).toBeGreaterThanOrEqual(9);
    expect(single.stores.catalog(b.id).shardsOf(dsB)).toHaveLength(1);
    const listed = await listAll(a, [dsA]);
    expect(listed).toHaveLength(60);
    const questions: Question[] = [
      { by: ['attacker'] },
      { by: ['tags', 'mitreAttack'] },
      { by: ['attacker', 'targetIndustry'], interval: 'week' },
      { by: ['tlp', 'killChain', 'tags'], interval: 'month', limit: 5 },
      { by: ['category'], interval: 'day', limit: 3 },
    ];
    for (const q of questions) {
      const many = await aggregate(a, restQuery(q, [dsA]));
      const one = await aggregate(b, restQuery(q, [dsB]));
      expect(many, JSON.stringify(q)).toEqual(one);
      expect(many.aggregations).toEqual(countByHand(listed, q).rows);
    }
  });
});

describe('GET /events/aggregate (E12): errors', () => {
  const bad: [string, RegExp][] = [
    ['', /^aggregateBy/],
    ['aggregateBy=', /^aggregateBy/],
    ['aggregateBy=nope', /^aggregateBy: unknown column "nope"/],
    ['aggregateBy=attacker,bogus', /aggregateBy: unknown column "bogus"/],
    ['aggregateBy=attacker&startDate=yesterday', /^startDate/],
    ['aggregateBy=attacker&endDate=2025-13-45', /^endDate/],
    ['aggregateBy=attacker&startDate=2025-02-01&endDate=2025-01-01', /^startDate/],
    ['aggregateBy=attacker&limit=0', /^limit/],
    ['aggregateBy=attacker&limit=100001', /^limit/],
    ['aggregateBy=attacker&limit=abc', /^limit/],
    ['aggregateBy=attacker&interval=year', /^interval/],
    ['aggregateBy=attacker&datasetId=all,operational', /datasetId/],
  ];
  for (const [query, message] of bad) {
    it(`answers 400 for ?${query}`, async () => {
      const res = await account.call('GET', `/events/aggregate?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.success).toBe(false);
      expect(res.body.errors.map((e) => e.message).join('\n')).toMatch(message);
    });
  }

  it('answers 401 without a token, and read tokens may aggregate', async () => {
    const none = await account.call('GET', '/events/aggregate?aggregateBy=attacker', undefined, {
      token: null,
    });
    expect(none.status).toBe(401);
    const read = await account.call(
      'GET',
      `/events/aggregate?aggregateBy=attacker&datasetId=${main}`,
      undefined,
      {
        token: account.readToken,
      },
    );
    expect(read.status).toBe(200);
    expect(read.body.result.total).toBe(events.length);
  });

  it('answers 404 for an unknown dataset', async () => {
    const res = await account.call(
      'GET',
      '/events/aggregate?aggregateBy=attacker&datasetId=00000000-0000-4000-8000-000000000000',
    );
    expect(res.status).toBe(404);
  });
});
