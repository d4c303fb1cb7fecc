import { beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, makeTestApp, type TestAccount } from '../helpers.ts';
import { type CreatedEvent, create, dotted, list, sortByKey, walkCursor } from './support.ts';

const t = makeTestApp();
let account: TestAccount;
const events: CreatedEvent[] = [];
const COUNT = 23;

const uuids = (body: { result: { uuid: string }[] }) => body.result.map((e) => e.uuid);

/** The value each orderBy field sorts by, read from the ThreatEvent the API returned. */
const SORT_KEYS: Record<string, (e: CreatedEvent) => string | number> = {
  date: (e) => e.date,
  createdAt: (e) => e.createdAt,
  attacker: (e) => e.attacker as string,
  attackerCountry: (e) => e.attackerCountry as string,
  category: (e) => e.category as string,
  event: (e) => e.event as string,
  indicator: (e) => e.indicator as string,
  indicatorType: (e) => e.indicatorType as string,
  insight: (e) => (e.insight as string | undefined) ?? '',
  killChain: (e) => e.killChain as number,
  targetCountry: (e) => e.targetCountry as string,
  targetIndustry: (e) => e.targetIndustry as string,
  tlp: (e) => e.tlp as string,
  uuid: (e) => e.uuid,
  hasChildren: (e) => (e.hasChildren ? 1 : 0),
};

beforeAll(async () => {
  account = await t.account();
  const attackers = ['Alpha', 'bravo', 'Charlie', 'alpha'];
  const countries = ['RU', 'CN', 'IR'];
  const types: [string, string][] = [
    ['domain', 'host.example'],
    ['ip', '192.0.2.'],
    ['url', 'https://x.example/'],
  ];
  for (let i = 0; i < COUNT; i++) {
    const [type, prefix] = types[i % 3] as [string, string];
    events.push(
      await create(
        account,
        makeEvent({
          // Many equal dates, so the uuid tie-break decides a lot of the order.
          date: new Date(Date.UTC(2025, 5, 1 + (i % 5))).toISOString(),
          attacker: attackers[i % 4],
          attackerCountry: countries[i % 3],
          category: i % 2 ? 'Phishing' : 'Malware',
          event: `Event number ${String.fromCharCode(97 + ((i * 7) % 26))}`,
          indicator: `${prefix}${i}`,
          indicatorType: type,
          insight: i % 3 === 0 ? undefined : `insight ${i % 4}`,
          killChain: i % 4,
          targetCountry: i % 2 ? 'US' : 'FR',
          targetIndustry: i % 3 ? 'Energy' : 'Finance',
          tlp: ['amber', 'green', 'red'][i % 3],
          tags: [i % 2 ? 'odd' : 'even'],
        }),
      ),
    );
    if (i % 3 === 0) t.clock.advance(1000);
  }
});

describe('GET /events ordering', () => {
  it('defaults to date, newest first', async () => {
    const body = await list(account, '');
    expect(uuids(body)).toEqual(uuids({ result: sortByKey(events, (e) => e.date, 'desc') }));
  });

  for (const [field, key] of Object.entries(SORT_KEYS)) {
    for (const order of ['asc', 'desc'] as const) {
      it(`orders by ${field} ${order}, ties broken by uuid`, async () => {
        const body = await list(account, `orderBy=${field}&order=${order}&pageSize=1000`);
        expect(uuids(body)).toEqual(sortByKey(events, key, order).map((e) => e.uuid));
      });
    }
  }

  it('breaks ties between equal dates by uuid, in the direction asked', async () => {
    const other = await t.account();
    const same: CreatedEvent[] = [];
    for (let i = 0; i < 6; i++) same.push(await create(other, makeEvent({ date: '2025-07-01T00:00:00Z' })));
    const byUuid = same.map((e) => e.uuid).sort();
    expect(uuids(await list(other, 'orderBy=date&order=asc'))).toEqual(byUuid);
    expect(uuids(await list(other, 'orderBy=date&order=desc'))).toEqual([...byUuid].reverse());
  });

  it('refuses an unknown orderBy or order', async () => {
    expect((await account.call('GET', '/events?orderBy=colour')).status).toBe(400);
    expect((await account.call('GET', '/events?order=sideways')).status).toBe(400);
    // tags is a list, not a scalar
    expect((await account.call('GET', '/events?orderBy=tags')).status).toBe(400);
  });
});

describe('GET /events offset paging', () => {
  it('defaults to page 1 of 100 and reports exact counts', async () => {
    const body = await list(account, '');
    expect(body.result_info).toEqual({
      page: 1,
      per_page: 100,
      count: COUNT,
      total_count: COUNT,
      total_pages: 1,
    });
  });

  it('pages through the same order as one big page', async () => {
    const full = uuids(await list(account, 'orderBy=attacker&order=asc&pageSize=1000'));
    const paged: string[] = [];
    for (let page = 1; page <= 5; page++) {
      const body = await list(account, `orderBy=attacker&order=asc&pageSize=5&page=${page}`);
      expect(body.result_info.page).toBe(page);
      expect(body.result_info.per_page).toBe(5);
      expect(body.result_info.count).toBe(body.result.length);
      expect(body.result_info.total_count).toBe(COUNT);
      expect(body.result_info.total_pages).toBe(5);
      if (page < 5) expect(body.result_info.cursor).toEqual(expect.any(String));
      else expect(body.result_info.cursor).toBeUndefined();
      paged.push(...uuids(body));
    }
    expect(paged).toEqual(full);
    const beyond = await list(account, 'orderBy=attacker&order=asc&pageSize=5&page=6');
    expect(beyond.result).toEqual([]);
    expect(beyond.result_info.count).toBe(0);
    expect(beyond.result_info.total_count).toBe(COUNT);
  });

  it('gives no cursor when the page ends exactly at the last event', async () => {
    const body = await list(account, `pageSize=${COUNT}`);
    expect(body.result_info.count).toBe(COUNT);
    expect(body.result_info.cursor).toBeUndefined();
    const short = await list(account, `pageSize=${COUNT - 1}`);
    expect(short.result_info.cursor).toEqual(expect.any(String));
  });

  it('counts only the matching events', async () => {
    const body = await list(account, `${dotted([{ field: 'tags', op: 'equals', value: 'odd' }])}&pageSize=4`);
    const odd = events.filter((e) => (e.tags as string[]).includes('odd')).length;
    expect(body.result_info.total_count).toBe(odd);
    expect(body.result_info.total_pages).toBe(Math.ceil(odd / 4));
    expect(body.result_info.count).toBe(4);
  });

  it('accepts pageSize up to 25,000 and refuses more', async () => {
    expect((await account.call('GET', '/events?pageSize=25000')).status).toBe(200);
    const res = await account.call('GET', '/events?pageSize=25001');
    expect(res.status).toBe(400);
    expect(res.body.errors[0]?.message).toMatch(/pageSize/);
    for (const q of ['pageSize=0', 'pageSize=-1', 'pageSize=ten', 'page=0', 'page=1.5']) {
      expect((await account.call('GET', `/events?${q}`)).status, q).toBe(400);
    }
  });

  it('stops offset paging beyond 100,000 and points to the cursor', async () => {
    expect((await account.call('GET', '/events?page=1001&pageSize=100')).status).toBe(200);
    expect((await account.call('GET', '/events?page=5&pageSize=25000')).status).toBe(200);
    for (const q of ['page=1002&pageSize=100', 'page=6&pageSize=25000']) {
      const res = await account.call('GET', `/events?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.errors[0]?.message).toMatch(/cursor/);
    }
  });
});

describe('GET /events cursor paging', () => {
  it('walks every event exactly once, in order', async () => {
    for (const [field, order] of [
      ['date', 'desc'],
      ['date', 'asc'],
      ['attacker', 'asc'],
      ['killChain', 'desc'],
      ['insight', 'asc'],
      ['uuid', 'desc'],
    ] as const) {
      const walked = await walkCursor(account, `orderBy=${field}&order=${order}`, 4);
      const key = SORT_KEYS[field] as (e: CreatedEvent) => string | number;
      expect(walked, `${field} ${order}`).toEqual(sortByKey(events, key, order).map((e) => e.uuid));
    }
  });

  it('carries the filters in the cursor', async () => {
    const search = dotted([{ field: 'category', op: 'equals', value: 'Phishing' }]);
    const walked = await walkCursor(account, `${search}&orderBy=attacker&order=desc`, 3);
    const expected = sortByKey(
      events.filter((e) => e.category === 'Phishing'),
      SORT_KEYS.attacker as (e: CreatedEvent) => string,
      'desc',
    );
    expect(walked).toEqual(expected.map((e) => e.uuid));
  });

  it('continues from the page given by page= with the cursor it answered', async () => {
    const first = await list(account, 'page=2&pageSize=6');
    const next = await list(account, `cursor=${encodeURIComponent(first.result_info.cursor)}&pageSize=6`);
    const third = await list(account, 'page=3&pageSize=6');
    expect(uuids(next)).toEqual(uuids(third));
    expect(next.result_info.page).toBe(3);
  });

  it('may change the page size between cursor pages', async () => {
    const first = await list(account, 'pageSize=5&orderBy=event&order=asc');
    const rest = await list(account, `cursor=${encodeURIComponent(first.result_info.cursor)}&pageSize=1000`);
    const full = uuids(await list(account, 'pageSize=1000&orderBy=event&order=asc'));
    expect([...uuids(first), ...uuids(rest)]).toEqual(full);
    expect(rest.result_info.cursor).toBeUndefined();
  });

  it('is stable when newer events arrive between pages', async () => {
    const other = await t.account();
    for (let i = 0; i < 6; i++) await create(other, makeEvent({ date: `2025-08-0${i + 1}T00:00:00Z` }));
    const first = await list(other, 'pageSize=3');
    await create(other, makeEvent({ date: '2025-09-01T00:00:00Z' }));
    const second = await list(other, `cursor=${encodeURIComponent(first.result_info.cursor)}&pageSize=3`);
    const all = [...uuids(first), ...uuids(second)];
    expect(new Set(all).size).toBe(6);
    expect(second.result.map((e: { date: string }) => e.date)).toEqual([
      '2025-08-03T00:00:00.000Z',
      '2025-08-02T00:00:00.000Z',
      '2025-08-01T00:00:00.000Z',
    ]);
  });

  it('refuses anything but pageSize next to a cursor', async () => {
    const cursor = encodeURIComponent((await list(account, 'pageSize=2')).result_info.cursor);
    expect((await account.call('GET', `/events?cursor=${cursor}&pageSize=2`)).status).toBe(200);
    expect((await account.call('GET', `/events?cursor=${cursor}`)).status).toBe(200);
    for (const extra of [
      'page=2',
      'order=asc',
      'orderBy=attacker',
      'datasetId=all',
      dotted([{ field: 'attacker', op: 'equals', value: 'Alpha' }]),
      `search=${encodeURIComponent('[]')}`,
    ]) {
      const res = await account.call('GET', `/events?cursor=${cursor}&${extra}`);
      expect(res.status, extra).toBe(400);
      expect(res.body.errors[0]?.message).toMatch(/cursor/);
    }
  });

  it('refuses a cursor it did not issue', async () => {
    const cursor: string = (await list(account, 'pageSize=2')).result_info.cursor;
    const tampered = [
      cursor.slice(0, Math.floor(cursor.length / 2)),
      `x${cursor.slice(1)}`,
      `${cursor}%21`,
      'not-a-cursor',
      btoa(JSON.stringify({ v: 2, o: 'asc', b: 'date', a: { k: 1, i: 1 }, p: 2 })).replace(/=+$/, ''),
      btoa(JSON.stringify({ v: 1, o: 'asc', b: 'tags', a: { k: 1, i: 1 }, p: 2 })).replace(/=+$/, ''),
    ];
    for (const bad of tampered) {
      const res = await account.call('GET', `/events?cursor=${bad}&pageSize=2`);
      expect(res.status, bad).toBe(400);
      expect(res.body.success).toBe(false);
      expect(res.body.errors[0]?.message).toMatch(/cursor/);
    }
  });
});

describe('large pages', () => {
  it('serves a page larger than one fetch from a shard (2,500 events) whole and in order', async () => {
    const big = makeTestApp();
    const owner = await big.account();
    const data = Array.from({ length: 5_600 }, (_, i) =>
      makeEvent({ date: new Date(Date.UTC(2024, 0, 1) + (i % 97) * 60_000).toISOString() }),
    );
    const ds = (await owner.call('POST', '/events/dataset/create', { name: 'Big', isPublic: false })).body
      .result.uuid as string;
    const stored = await owner.call('POST', '/events/create/bulk', { datasetId: ds, data });
    expect(stored.body.result.createdEventsCount).toBe(data.length);
    // The same order, one small page at a time, is the reference.
    const small: string[] = [];
    let cursor: string | undefined;
    do {
      const query: string = cursor
        ? `cursor=${encodeURIComponent(cursor)}&pageSize=1000`
        : `datasetId=${ds}&pageSize=1000`;
      const body = await list(owner, query);
      small.push(...uuids(body));
      cursor = body.result_info.cursor;
    } while (cursor);
    expect(small).toHaveLength(data.length);
    const first = await list(owner, `datasetId=${ds}&pageSize=5500`);
    expect(uuids(first)).toEqual(small.slice(0, 5500));
    expect(first.result_info.count).toBe(5500);
    const rest = await list(owner, `cursor=${encodeURIComponent(first.result_info.cursor)}&pageSize=5500`);
    expect(uuids(rest)).toEqual(small.slice(5500));
    expect(rest.result_info.cursor).toBeUndefined();
    const offset = await list(owner, `datasetId=${ds}&pageSize=2600&page=2`);
    expect(uuids(offset)).toEqual(small.slice(2600, 5200));
  });
});
