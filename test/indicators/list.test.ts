import { describe, expect, it } from 'vitest';
import { makeTestApp, type TestAccount } from '../helpers.ts';
import { cond, createEvent, type ListedIndicator, listIndicators, newDataset, valuesOf } from './support.ts';

const t = makeTestApp();

/** Creates one event per value (domain indicators), one second apart; answers the events. */
async function seed(
  account: TestAccount,
  datasetId: string | undefined,
  values: string[],
  tags = ['malware'],
) {
  const out = [];
  for (const value of values) {
    t.clock.advance(1000);
    out.push(await createEvent(account, { ...(datasetId ? { datasetId } : {}), indicator: value, tags }));
  }
  return out;
}

const newestFirst = (list: readonly ListedIndicator[]) =>
  [...list].sort((a, b) =>
    a.createdAt === b.createdAt ? (a.uuid < b.uuid ? -1 : 1) : a.createdAt < b.createdAt ? 1 : -1,
  );

describe('GET /events/indicators (E54) scoping and search', () => {
  it('lists the default dataset when datasetIds is absent, and scopes to the datasets asked for', async () => {
    const account = await t.account();
    const other = await newDataset(account);
    await seed(account, undefined, ['default-one.example', 'default-two.example']);
    await seed(account, other, ['other.example']);
    const plain = await listIndicators(account);
    expect(valuesOf(plain.result.indicators)).toEqual(['default-one.example', 'default-two.example']);
    expect(plain.result.indicators[0]?.sources).toEqual([]);
    const scoped = await listIndicators(account, `datasetIds=${other}`);
    expect(valuesOf(scoped.result.indicators)).toEqual(['other.example']);
    expect(scoped.result.indicators[0]?.datasetId).toBe(other);
    const all = await listIndicators(account, 'datasetIds=all');
    expect(all.result.indicators).toHaveLength(3);
    const unknown = await account.call('GET', '/events/indicators?datasetIds=no-such-dataset');
    expect([400, 404]).toContain(unknown.status);
  });

  it('searches value, indicatorType and uuid with every op, in as a bulk look-up of at most 100', async () => {
    const account = await t.account();
    const ds = await newDataset(account);
    await seed(account, ds, ['alpha.example', 'beta.example', 'gamma.test']);
    await createEvent(account, { datasetId: ds, indicatorType: 'ip', indicator: '203.0.113.9' });
    const all = (await listIndicators(account, `datasetIds=${ds}`)).result.indicators;
    const beta = all.find((i) => i.value === 'beta.example') as ListedIndicator;
    const find = async (field: string, op: string, value: string | string[]) =>
      valuesOf(
        (await listIndicators(account, `datasetIds=${ds}&${cond('search', field, op, value)}`)).result
          .indicators,
      );
    expect(await find('value', 'equals', 'beta.example')).toEqual(['beta.example']);
    expect(await find('value', 'not', 'beta.example')).toEqual([
      '203.0.113.9',
      'alpha.example',
      'gamma.test',
    ]);
    expect(await find('value', 'contains', 'mma')).toEqual(['gamma.test']);
    expect(await find('value', 'like', '%.example')).toEqual(['alpha.example', 'beta.example']);
    expect(await find('value', 'startsWith', 'al')).toEqual(['alpha.example']);
    expect(await find('value', 'endsWith', '.test')).toEqual(['gamma.test']);
    expect(await find('value', 'gt', 'beta.example')).toEqual(['gamma.test']);
    expect(await find('value', 'gte', 'beta.example')).toEqual(['beta.example', 'gamma.test']);
    expect(await find('value', 'lt', 'alpha.example')).toEqual(['203.0.113.9']);
    expect(await find('value', 'lte', 'alpha.example')).toEqual(['203.0.113.9', 'alpha.example']);
    expect(await find('value', 'in', ['alpha.example', 'gamma.test', 'missing.example'])).toEqual([
      'alpha.example',
      'gamma.test',
    ]);
    expect(await find('indicatorType', 'equals', 'IP')).toEqual(['203.0.113.9']);
    expect(await find('indicatorType', 'in', ['ip', 'domain'])).toHaveLength(4);
    expect(await find('uuid', 'equals', beta.uuid)).toEqual(['beta.example']);
    expect(await find('uuid', 'in', [beta.uuid])).toEqual(['beta.example']);

    const hundred = Array.from({ length: 100 }, (_, i) => `v${i}.example`);
    hundred[99] = 'alpha.example';
    expect(await find('value', 'in', hundred)).toEqual(['alpha.example']);
    const tooMany = await account.call(
      'GET',
      `/events/indicators?datasetIds=${ds}&${cond('search', 'value', 'in', [...hundred, 'x.example'])}`,
    );
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors[0]?.message).toMatch(/100/);
    const badField = await account.call(
      'GET',
      `/events/indicators?${cond('search', 'attacker', 'equals', 'x')}`,
    );
    expect(badField.status).toBe(400);
    // The JSON spelling of the same search.
    const json = encodeURIComponent(
      JSON.stringify([{ field: 'value', op: 'equals', value: 'beta.example' }]),
    );
    const viaJson = await listIndicators(account, `datasetIds=${ds}&search=${json}`);
    expect(valuesOf(viaJson.result.indicators)).toEqual(['beta.example']);
  });

  it('filters by tags (value or uuid, OR) and by tagSearch on tag properties, country by any spelling', async () => {
    const account = await t.account();
    const ds = await newDataset(account);
    const kitten = await account.call('POST', '/events/tags/create', {
      value: 'Charming Kitten',
      motive: 'Espionage',
      originCountryISO: 'IR',
    });
    expect(kitten.status).toBe(200);
    const bear = await account.call('POST', '/events/tags/create', {
      value: 'Fancy Bear',
      motive: 'Disruption',
      originCountryISO: 'RU',
    });
    expect(bear.status).toBe(200);
    await seed(account, ds, ['kitten.example'], ['Charming Kitten']);
    await seed(account, ds, ['bear.example'], ['Fancy Bear']);
    await seed(account, ds, ['plain.example'], ['commodity']);
    const get = async (query: string) =>
      valuesOf((await listIndicators(account, `datasetIds=${ds}&${query}`)).result.indicators);

    expect(await get('tags=Charming%20Kitten')).toEqual(['kitten.example']);
    expect(await get(`tags=${kitten.body.result.uuid}`)).toEqual(['kitten.example']);
    expect(await get(`tags=${kitten.body.result.uuid}&tags=Fancy%20Bear`)).toEqual([
      'bear.example',
      'kitten.example',
    ]);
    expect(await get('tags=nobody')).toEqual([]);
    for (const spelling of ['IR', 'Iran', 'IRN', 'ir']) {
      expect(await get(cond('tagSearch', 'originCountryISO', 'in', [spelling])), spelling).toEqual([
        'kitten.example',
      ]);
    }
    expect(await get(cond('tagSearch', 'originCountryISO', 'equals', 'Russia'))).toEqual(['bear.example']);
    expect(await get(cond('tagSearch', 'motive', 'equals', 'Espionage'))).toEqual(['kitten.example']);
    // tags and tagSearch together: a matching tag must satisfy both.
    expect(await get(`tags=Fancy%20Bear&${cond('tagSearch', 'originCountryISO', 'equals', 'IR')}`)).toEqual(
      [],
    );
    const bad = await account.call(
      'GET',
      `/events/indicators?${cond('tagSearch', 'noSuchField', 'equals', 'x')}`,
    );
    expect(bad.status).toBe(400);
  });

  it('filters by createdAfter/createdBefore inclusively and by related events', async () => {
    const account = await t.account();
    const ds = await newDataset(account);
    t.clock.set(Date.parse('2026-03-01T10:00:00Z'));
    const early = await createEvent(account, { datasetId: ds, indicator: 'early.example' });
    t.clock.set(Date.parse('2026-03-02T10:00:00Z'));
    const mid = await createEvent(account, { datasetId: ds, indicator: 'mid.example' });
    t.clock.set(Date.parse('2026-03-03T10:00:00Z'));
    await createEvent(account, { datasetId: ds, indicator: 'late.example' });
    const get = async (query: string) =>
      valuesOf((await listIndicators(account, `datasetIds=${ds}&${query}`)).result.indicators);
    expect(await get('createdAfter=2026-03-02T10:00:00Z')).toEqual(['late.example', 'mid.example']);
    expect(await get('createdBefore=2026-03-02T10:00:00Z')).toEqual(['early.example', 'mid.example']);
    expect(await get('createdAfter=2026-03-02T10:00:00Z&createdBefore=2026-03-02T10:00:00Z')).toEqual([
      'mid.example',
    ]);
    expect(await get('createdBefore=2026-03-02')).toEqual(['early.example', 'mid.example']);
    expect(await get('createdAfter=2026-03-04')).toEqual([]);
    expect(await get(`relatedEvents=${mid.uuid}`)).toEqual(['mid.example']);
    expect(await get(`relatedEvents=${mid.uuid}&relatedEvents=${early.uuid}`)).toEqual([
      'early.example',
      'mid.example',
    ]);
    const bad = await account.call('GET', '/events/indicators?createdAfter=last-week');
    expect(bad.status).toBe(400);
  });
});

describe('GET /events/indicators (E54) related events, tags and counts', () => {
  it('caps relatedEvents at 2 by default, says so, and gives none for 0 and all for -1', async () => {
    const account = await t.account();
    const ds = await newDataset(account);
    const events = await seed(account, ds, ['busy.example', 'busy.example', 'busy.example']);
    await seed(account, ds, ['quiet.example']);
    const get = async (extra: string) => listIndicators(account, `datasetIds=${ds}${extra}`);
    const byValue = (body: Awaited<ReturnType<typeof get>>, v: string) =>
      body.result.indicators.find((i) => i.value === v) as ListedIndicator;

    const dflt = await get('');
    expect(byValue(dflt, 'busy.example').relatedEvents).toHaveLength(2);
    expect(byValue(dflt, 'busy.example').relatedEventsHasMore).toBe(true);
    expect(byValue(dflt, 'quiet.example').relatedEvents).toHaveLength(1);
    expect(byValue(dflt, 'quiet.example').relatedEventsHasMore).toBe(false);
    expect(dflt.messages.map((m) => m.message).join(' ')).toMatch(/relatedEventsLimit/);
    // Newest events first.
    expect(byValue(dflt, 'busy.example').relatedEvents?.map((r) => r.eventId)).toEqual([
      events[2]?.uuid,
      events[1]?.uuid,
    ]);
    expect(byValue(dflt, 'busy.example').relatedEvents?.[0]?.datasetId).toBe(ds);

    const none = await get('&relatedEventsLimit=0');
    expect(byValue(none, 'busy.example').relatedEvents).toBeUndefined();
    expect(none.messages).toEqual([]);

    const all = await get('&relatedEventsLimit=-1');
    expect(
      byValue(all, 'busy.example')
        .relatedEvents?.map((r) => r.eventId)
        .sort(),
    ).toEqual(events.map((e) => e.uuid).sort());
    expect(byValue(all, 'busy.example').relatedEventsHasMore).toBe(false);
    expect(all.messages).toEqual([]);

    const three = await get('&relatedEventsLimit=3');
    expect(byValue(three, 'busy.example').relatedEventsHasMore).toBe(false);
    expect(three.messages).toEqual([]);
    const bad = await account.call('GET', `/events/indicators?relatedEventsLimit=-2`);
    expect(bad.status).toBe(400);
  });

  it('includes the tags of the events unless includeTags=false, and counts only when asked', async () => {
    const account = await t.account();
    const ds = await newDataset(account);
    await seed(account, ds, ['tagged.example'], ['botnet', 'phishing']);
    await seed(account, ds, ['second.example', 'third.example']);
    const withTags = await listIndicators(account, `datasetIds=${ds}`);
    const tagged = withTags.result.indicators.find((i) => i.value === 'tagged.example');
    expect(tagged?.tags?.map((x) => x.value).sort()).toEqual(['botnet', 'phishing']);
    const tagList = await account.call('GET', '/events/tags?search=botnet');
    const botnet = tagList.body.result.tags.find((x: { value: string }) => x.value === 'botnet');
    expect(botnet?.uuid).toEqual(expect.any(String));
    expect(tagged?.tags?.find((x) => x.value === 'botnet')?.uuid).toBe(botnet.uuid);
    expect(withTags.result.pagination.total_count).toBeNull();
    expect(withTags.result.pagination.total_count_is_exact).toBe(false);

    const without = await listIndicators(
      account,
      `datasetIds=${ds}&includeTags=false&includeTotalCount=true`,
    );
    for (const i of without.result.indicators) expect(i.tags).toBeUndefined();
    expect(without.result.pagination.total_count).toBe(3);
    expect(without.result.pagination.total_count_is_exact).toBe(true);
  });
});

describe('GET /events/indicators (E54) paging', () => {
  async function sevenIndicators(account: TestAccount) {
    const ds = await newDataset(account);
    // Two created in the same millisecond: ties go by uuid.
    await seed(account, ds, ['p1.example', 'p2.example', 'p3.example']);
    await createEvent(account, {
      datasetId: ds,
      indicators: [
        { indicatorType: 'domain', value: 'p4.example' },
        { indicatorType: 'domain', value: 'p5.example' },
      ],
      indicator: undefined,
    });
    await seed(account, ds, ['p6.example', 'p7.example']);
    const all = (await listIndicators(account, `datasetIds=${ds}&pageSize=100`)).result.indicators;
    expect(all).toHaveLength(7);
    return { ds, all };
  }

  it('pages by number and by cursor through every indicator once, newest first then uuid', async () => {
    const account = await t.account();
    const { ds, all } = await sevenIndicators(account);
    expect(all.map((i) => i.uuid)).toEqual(newestFirst(all).map((i) => i.uuid));
    expect(all[0]?.value).toBe('p7.example');

    const byPage: string[] = [];
    for (let page = 1; page <= 4; page++) {
      const body = await listIndicators(account, `datasetIds=${ds}&pageSize=2&page=${page}`);
      expect(body.result.pagination.page).toBe(page);
      expect(body.result.pagination.per_page).toBe(2);
      expect(body.result.pagination.has_more).toBe(page < 4);
      byPage.push(...body.result.indicators.map((i) => i.uuid));
    }
    expect(byPage).toEqual(all.map((i) => i.uuid));

    const byCursor: string[] = [];
    let body = await listIndicators(account, `datasetIds=${ds}&pageSize=2`);
    for (let guard = 0; guard < 10; guard++) {
      byCursor.push(...body.result.indicators.map((i) => i.uuid));
      const cursor = body.result.pagination.cursor;
      if (!cursor) break;
      expect(body.result.pagination.has_more).toBe(true);
      body = await listIndicators(account, `cursor=${encodeURIComponent(cursor)}`);
      expect(body.result.pagination.per_page).toBe(2);
    }
    expect(byCursor).toEqual(all.map((i) => i.uuid));
    expect(new Set(byCursor).size).toBe(7);
  });

  it('keeps the filters in the cursor and refuses filters, page or pageSize beside it', async () => {
    const account = await t.account();
    const { ds } = await sevenIndicators(account);
    const first = await listIndicators(
      account,
      `datasetIds=${ds}&pageSize=1&${cond('search', 'value', 'in', ['p1.example', 'p2.example'])}`,
    );
    expect(valuesOf(first.result.indicators)).toEqual(['p2.example']);
    const cursor = encodeURIComponent(first.result.pagination.cursor as string);
    const next = await listIndicators(account, `cursor=${cursor}`);
    expect(valuesOf(next.result.indicators)).toEqual(['p1.example']);
    expect(next.result.pagination.cursor).toBeNull();
    expect(next.result.pagination.has_more).toBe(false);

    for (const extra of [
      `datasetIds=${ds}`,
      'page=2',
      'pageSize=1',
      'includeTotalCount=true',
      'indicatorType=domain',
      cond('search', 'value', 'equals', 'x'),
    ]) {
      const res = await account.call('GET', `/events/indicators?cursor=${cursor}&${extra}`);
      expect(res.status, extra).toBe(400);
      expect(res.body.errors[0]?.message, extra).toContain('CursorFilterConflictError');
    }
    const falseCount = await account.call(
      'GET',
      `/events/indicators?cursor=${cursor}&includeTotalCount=false`,
    );
    expect(falseCount.status).toBe(200);
  });

  it('refuses junk cursors and cursors of the events list with InvalidCursorError', async () => {
    const account = await t.account();
    const { ds } = await sevenIndicators(account);
    const junk = await account.call('GET', '/events/indicators?cursor=not*a*cursor');
    expect(junk.status).toBe(400);
    expect(junk.body.errors[0]?.message).toContain('InvalidCursorError');
    const b64 = Buffer.from(JSON.stringify({ v: 1, e: 'events' })).toString('base64url');
    const foreign = await account.call('GET', `/events/indicators?cursor=${b64}`);
    expect(foreign.status).toBe(400);
    expect(foreign.body.errors[0]?.message).toContain('InvalidCursorError');
    const events = await account.call('GET', `/events?datasetId=${ds}&pageSize=1`);
    const eventCursor = events.body.result_info.cursor as string;
    expect(eventCursor).toEqual(expect.any(String));
    const wrong = await account.call('GET', `/events/indicators?cursor=${encodeURIComponent(eventCursor)}`);
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors[0]?.message).toContain('InvalidCursorError');
  });
});
