import { describe, expect, it } from 'vitest';
import { makeTestApp, type TestAccount } from '../helpers.ts';
import { cond, createEvent, listIndicators, newDataset, valuesOf } from './support.ts';

const t = makeTestApp();

/**
 * Two datasets. First: evil.example in 3 events (tag apt), 198.51.100.1 in 1 event (tag apt),
 * hash aa… in 1 event (tag crime). Second: evil.example in 1 event (tag apt), 192.0.2.2 (tag crime).
 */
async function world(account: TestAccount) {
  const first = await newDataset(account, 'first');
  const second = await newDataset(account, 'second');
  const mk = async (datasetId: string, indicatorType: string, indicator: string, tags: string[]) => {
    t.clock.advance(1000);
    return createEvent(account, { datasetId, indicatorType, indicator, tags });
  };
  const e1 = await mk(first, 'domain', 'evil.example', ['apt']);
  await mk(first, 'domain', 'evil.example', ['apt']);
  await mk(first, 'domain', 'evil.example', ['apt']);
  await mk(first, 'ip', '198.51.100.1', ['apt']);
  await mk(first, 'md5', 'a'.repeat(32), ['crime']);
  await mk(second, 'domain', 'evil.example', ['apt']);
  await mk(second, 'ip', '192.0.2.2', ['crime']);
  const tags = await account.call('GET', '/events/tags?pageSize=100');
  const uuidOf = (v: string): string =>
    tags.body.result.tags.find((x: { value: string }) => x.value === v)?.uuid as string;
  return { first, second, e1, apt: uuidOf('apt'), crime: uuidOf('crime') };
}

describe('GET /events/indicators/aggregate (E55)', () => {
  it('counts indicators or event links per type, value or both, over every dataset by default', async () => {
    const account = await t.account();
    const w = await world(account);
    const agg = async (query: string) => {
      const res = await account.call('GET', `/events/indicators/aggregate?${query}`);
      expect(res.status, query).toBe(200);
      return res.body.result;
    };
    const byType = await agg('aggregateBy=indicatorType');
    expect(byType.aggregateBy).toBe('indicatorType');
    expect(byType.aggregations).toEqual([
      { indicatorType: 'domain', count: 2 },
      { indicatorType: 'ip', count: 2 },
      { indicatorType: 'md5', count: 1 },
    ]);
    expect(byType.total).toBe(5);
    expect(byType.failedDatasets).toBe(0);

    const byValue = await agg('aggregateBy=value&measure=relationships');
    expect(byValue.aggregations[0]).toEqual({ value: 'evil.example', count: 4 });
    expect(byValue.total).toBe(7);

    const both = await agg(`aggregateBy=indicatorType,value&datasetIds=${w.first}&measure=relationships`);
    expect(both.aggregations).toEqual([
      { indicatorType: 'domain', value: 'evil.example', count: 3 },
      { indicatorType: 'ip', value: '198.51.100.1', count: 1 },
      { indicatorType: 'md5', value: 'a'.repeat(32), count: 1 },
    ]);
    const one = await agg('aggregateBy=indicatorType&limit=1');
    expect(one.aggregations).toHaveLength(1);
    const crime = await agg(`aggregateBy=indicatorType&tagUuid=${w.crime}`);
    expect(crime.aggregations).toEqual([
      { indicatorType: 'ip', count: 1 },
      { indicatorType: 'md5', count: 1 },
    ]);
    for (const bad of [
      'aggregateBy=indicatorType&limit=0',
      'aggregateBy=indicatorType&limit=101',
      '',
      'aggregateBy=attacker',
      'aggregateBy=value&measure=events',
    ]) {
      const res = await account.call('GET', `/events/indicators/aggregate?${bad}`);
      expect(res.status, bad).toBe(400);
    }
    const unknownTag = await account.call(
      'GET',
      '/events/indicators/aggregate?aggregateBy=value&tagUuid=nope',
    );
    expect(unknownTag.status).toBe(404);
  });
});

describe('indicator types (E56, E57)', () => {
  it('lists the types in use, sorted, over every dataset unless scoped', async () => {
    const account = await t.account();
    const w = await world(account);
    for (const path of ['/events/indicator-types', '/events/indicatorTypes']) {
      const all = await account.call('GET', path);
      expect(all.status).toBe(200);
      expect(all.body.result).toEqual(['domain', 'ip', 'md5']);
    }
    const second = await account.call('GET', `/events/indicator-types?datasetIds=${w.second}`);
    expect(second.body.result).toEqual(['domain', 'ip']);
    const empty = await t.account();
    expect((await empty.call('GET', '/events/indicator-types')).body.result).toEqual([]);
  });
});

describe('indicators of a dataset (E58, E59, E60)', () => {
  it('pages with {page, pageSize, totalCount, totalPages} and filters by type, name and event', async () => {
    const account = await t.account();
    const w = await world(account);
    const res = await account.call('GET', `/events/dataset/${w.first}/indicators?pageSize=2&page=2`);
    expect(res.status).toBe(200);
    expect(res.body.result.pagination).toEqual({ page: 2, pageSize: 2, totalCount: 3, totalPages: 2 });
    expect(res.body.result.indicators).toHaveLength(1);
    expect(res.body.result.indicators[0].sources).toEqual([]);
    const ip = await account.call('GET', `/events/dataset/${w.first}/indicators?indicatorType=ip`);
    expect(valuesOf(ip.body.result.indicators)).toEqual(['198.51.100.1']);
    const named = await account.call('GET', `/events/dataset/${w.first}/indicators?name=evil`);
    expect(valuesOf(named.body.result.indicators)).toEqual(['evil.example']);
    const related = await account.call(
      'GET',
      `/events/dataset/${w.first}/indicators?relatedEvent=${w.e1.uuid}`,
    );
    expect(valuesOf(related.body.result.indicators)).toEqual(['evil.example']);
    const missing = await account.call('GET', '/events/dataset/no-such-dataset/indicators');
    expect(missing.status).toBe(404);
  });

  it('gets one indicator by uuid without sources, and 404 for another uuid or dataset', async () => {
    const account = await t.account();
    const w = await world(account);
    const listed = await listIndicators(
      account,
      `datasetIds=${w.first}&${cond('search', 'value', 'equals', 'evil.example')}`,
    );
    const uuid = listed.result.indicators[0]?.uuid as string;
    const got = await account.call('GET', `/events/dataset/${w.first}/indicators/${uuid}`);
    expect(got.status).toBe(200);
    expect(got.body.result).toMatchObject({
      uuid,
      value: 'evil.example',
      indicatorType: 'domain',
      datasetId: w.first,
    });
    expect(got.body.result.sources).toBeUndefined();
    expect(got.body.result.tags.map((x: { value: string }) => x.value)).toEqual(['apt']);
    const elsewhere = await account.call('GET', `/events/dataset/${w.second}/indicators/${uuid}`);
    expect(elsewhere.status).toBe(404);
    const unknown = await account.call(
      'GET',
      `/events/dataset/${w.first}/indicators/00000000-0000-8000-8000-000000000000`,
    );
    expect(unknown.status).toBe(404);
  });

  it('lists the tags used in a dataset with their account uuids', async () => {
    const account = await t.account();
    const w = await world(account);
    const res = await account.call('GET', `/events/dataset/${w.second}/indicators/tags`);
    expect(res.status).toBe(200);
    expect(
      res.body.result.map((r: { value: string; uuid: string; datasetId: string }) => [
        r.value,
        r.uuid,
        r.datasetId,
      ]),
    ).toEqual([
      ['apt', w.apt, w.second],
      ['crime', w.crime, w.second],
    ]);
  });
});

describe('indicators of a tag (E69, E70)', () => {
  it('spans every dataset unless scoped, and E70 answers one dataset', async () => {
    const account = await t.account();
    const w = await world(account);
    const all = await account.call('GET', `/events/tags/${w.apt}/indicators`);
    expect(all.status).toBe(200);
    expect(
      all.body.result.indicators
        .map((i: { value: string; datasetId: string }) => `${i.datasetId === w.first ? 1 : 2} ${i.value}`)
        .sort(),
    ).toEqual(['1 198.51.100.1', '1 evil.example', '2 evil.example']);
    expect(all.body.result.pagination).toEqual({ page: 1, pageSize: 100, totalCount: 3, totalPages: 1 });
    expect(all.body.result.indicators[0].sources).toBeUndefined();
    const scoped = await account.call('GET', `/events/tags/${w.apt}/indicators?datasetIds=${w.second}`);
    expect(valuesOf(scoped.body.result.indicators)).toEqual(['evil.example']);
    const typed = await account.call('GET', `/events/tags/${w.apt}/indicators?indicatorType=ip`);
    expect(valuesOf(typed.body.result.indicators)).toEqual(['198.51.100.1']);
    const searched = await account.call(
      'GET',
      `/events/tags/${w.crime}/indicators?${cond('search', 'value', 'startsWith', '192')}`,
    );
    expect(valuesOf(searched.body.result.indicators)).toEqual(['192.0.2.2']);
    const e70 = await account.call('GET', `/events/dataset/${w.first}/tags/${w.crime}/indicators`);
    expect(e70.status).toBe(200);
    expect(valuesOf(e70.body.result.indicators)).toEqual(['a'.repeat(32)]);
    expect(e70.body.result.pagination.totalCount).toBe(1);
    const paged = await account.call('GET', `/events/tags/${w.apt}/indicators?pageSize=2&page=2`);
    expect(paged.body.result.pagination).toEqual({ page: 2, pageSize: 2, totalCount: 3, totalPages: 2 });
    expect(paged.body.result.indicators).toHaveLength(1);
  });

  it('answers 404 for a tag the account does not have', async () => {
    const account = await t.account();
    const w = await world(account);
    const res = await account.call('GET', '/events/tags/00000000-0000-4000-8000-000000000000/indicators');
    expect(res.status).toBe(404);
    const e70 = await account.call(
      'GET',
      `/events/dataset/${w.first}/tags/00000000-0000-4000-8000-000000000000/indicators`,
    );
    expect(e70.status).toBe(404);
    // Another account's tag is not this account's.
    const stranger = await t.account();
    const foreign = await stranger.call('GET', `/events/tags/${w.apt}/indicators`);
    expect(foreign.status).toBe(404);
  });
});
