import { describe, expect, it } from 'vitest';
import { makeEvent, makeTestApp } from '../helpers.ts';
import { cond, createEvent, listIndicators, newDataset } from './support.ts';

const t = makeTestApp();

describe('indicator values as users write them', () => {
  it('folds each type to one canonical spelling on the event and in the indicator list', async () => {
    const account = await t.account();
    const datasetId = await newDataset(account);
    const cases: [string, string, string, string][] = [
      ['domain', 'Login.EXAMPLE.com.', 'domain', 'login.example.com'],
      ['ipv6', '2001:0db8:0:0:0:0:0:1', 'ipv6', '2001:db8::1'],
      ['ip', '2001:DB8:0:0:1:0:0:1', 'ip', '2001:db8::1:0:0:1'],
      ['ip', '010.001.002.003', 'ip', '10.1.2.3'],
      ['sha256', 'A'.repeat(64), 'sha256', 'a'.repeat(64)],
      ['md5', 'ABCDEF0123456789ABCDEF0123456789', 'md5', 'abcdef0123456789abcdef0123456789'],
      ['hash', 'B'.repeat(40), 'sha1', 'b'.repeat(40)],
      ['hash', 'c'.repeat(32), 'md5', 'c'.repeat(32)],
      ['hash', 'D'.repeat(128), 'sha512', 'd'.repeat(128)],
      ['SHA-256', 'e'.repeat(64), 'sha256', 'e'.repeat(64)],
    ];
    for (const [type, raw, wantType, wantValue] of cases) {
      const event = await createEvent(account, { datasetId, indicatorType: type, indicator: raw });
      expect([event.indicatorType, event.indicator], `${type} ${raw}`).toEqual([wantType, wantValue]);
    }
    const listed = await listIndicators(account, `datasetIds=${datasetId}&pageSize=100`);
    const pairs = listed.result.indicators.map((i) => `${i.indicatorType} ${i.value}`).sort();
    expect(pairs).toEqual(cases.map(([, , ty, v]) => `${ty} ${v}`).sort());
  });

  it('guesses the type of an indicator sent without indicatorType', async () => {
    const account = await t.account();
    const datasetId = await newDataset(account);
    const cases: [string, string][] = [
      ['198.51.100.7', 'ip'],
      ['f'.repeat(64), 'sha256'],
      ['0'.repeat(40), 'sha1'],
      ['https://Phish.EXAMPLE/login', 'url'],
      ['Typo-Squat.example', 'domain'],
      ['ceo@Corp.EXAMPLE', 'email'],
    ];
    for (const [value, type] of cases) {
      const event = await createEvent(account, { datasetId, indicatorType: undefined, indicator: value });
      expect(event.indicatorType, value).toBe(type);
    }
    const listed = await listIndicators(account, `datasetIds=${datasetId}`);
    expect(listed.result.indicators.map((i) => i.indicatorType).sort()).toEqual(
      cases.map(([, ty]) => ty).sort(),
    );
    expect(listed.result.indicators.map((i) => i.value)).toContain('typo-squat.example');
  });

  it('refuses an invalid value with 400 naming the field, and stores nothing', async () => {
    const account = await t.account();
    const datasetId = await newDataset(account);
    const bad = await account.call(
      'POST',
      '/events/create',
      makeEvent({ datasetId, indicatorType: 'sha256', indicator: 'abc123' }),
    );
    expect(bad.status).toBe(400);
    expect(bad.body.success).toBe(false);
    expect(bad.body.errors.map((e) => e.message).join(' ')).toMatch(/\bindicator\b.*SHA-256/);

    const second = await account.call(
      'POST',
      '/events/create',
      makeEvent({
        datasetId,
        indicators: [
          { indicatorType: 'domain', value: 'ok.example' },
          { indicatorType: 'sha256', value: 'z'.repeat(64) },
        ],
      }),
    );
    expect(second.status).toBe(400);
    expect(second.body.errors.map((e) => e.message).join(' ')).toContain('indicators[1]');

    const badIp = await account.call(
      'POST',
      '/events/create',
      makeEvent({ datasetId, indicatorType: 'ipv4', indicator: '256.1.1.1' }),
    );
    expect(badIp.status).toBe(400);

    const listed = await listIndicators(account, `datasetIds=${datasetId}`);
    expect(listed.result.indicators).toEqual([]);
    const events = await account.call('GET', `/events?datasetId=${datasetId}`);
    expect(events.body.result).toEqual([]);
  });

  it('in bulk, reports the invalid item by index and stores the others with their indicators', async () => {
    const account = await t.account();
    const datasetId = await newDataset(account);
    const res = await account.call('POST', '/events/create/bulk', {
      datasetId,
      data: [
        makeEvent({ indicatorType: 'domain', indicator: 'First.example' }),
        makeEvent({ indicatorType: 'sha256', indicator: 'not-a-hash' }),
        makeEvent({ indicatorType: 'ip', indicator: '192.0.2.1' }),
      ],
    });
    expect(res.status).toBe(202);
    expect(res.body.result.createdEventsCount).toBe(2);
    expect(res.body.result.errorCount).toBe(1);
    expect(res.body.result.errors[0].eventIndex).toBe(1);
    expect(res.body.result.errors[0].error).toContain('data[1].indicator');
    const listed = await listIndicators(account, `datasetIds=${datasetId}`);
    expect(listed.result.indicators.map((i) => i.value).sort()).toEqual(['192.0.2.1', 'first.example']);
  });

  it('keeps one record per type and canonical value in a dataset, however it was spelt', async () => {
    const account = await t.account();
    const datasetId = await newDataset(account);
    const spellings = ['EVIL.example', 'evil.example.', 'Evil.Example', ' evil.example '];
    const events = [];
    for (const s of spellings) events.push(await createEvent(account, { datasetId, indicator: s }));
    // Same value, another type: another record.
    await createEvent(account, { datasetId, indicatorType: 'url', indicator: 'evil.example' });
    const listed = await listIndicators(
      account,
      `datasetIds=${datasetId}&relatedEventsLimit=-1&${cond('search', 'value', 'equals', 'evil.example')}`,
    );
    const domains = listed.result.indicators.filter((i) => i.indicatorType === 'domain');
    expect(domains).toHaveLength(1);
    expect(domains[0]?.relatedEvents?.map((r) => r.eventId).sort()).toEqual(events.map((e) => e.uuid).sort());
    expect(listed.result.indicators.map((i) => i.indicatorType).sort()).toEqual(['domain', 'url']);
  });

  it('gives an indicator the same uuid in every shard of a dataset and another one in another dataset', async () => {
    const small = makeTestApp({ shardMaxEvents: 3 });
    const account = await small.account();
    const first = await newDataset(account, 'first');
    const second = await newDataset(account, 'second');
    const inFirst = [];
    for (let i = 0; i < 7; i++) {
      small.clock.advance(1000);
      inFirst.push(await createEvent(account, { datasetId: first, indicator: 'shared.example' }));
    }
    await createEvent(account, { datasetId: second, indicator: 'SHARED.example' });
    expect(small.stores.catalog(account.id).shardsOf(first).length).toBeGreaterThanOrEqual(3);

    const one = await listIndicators(
      account,
      `datasetIds=${first}&relatedEventsLimit=-1&${cond('search', 'value', 'equals', 'shared.example')}`,
    );
    const uuids = new Set(one.result.indicators.map((i) => i.uuid));
    expect(uuids.size).toBe(1);
    // Listed once, with its first sighting's time, however many shards hold it.
    expect(one.result.indicators).toHaveLength(1);
    expect(one.result.indicators[0]?.createdAt).toBe(inFirst[0]?.createdAt);
    const counted = await listIndicators(account, `datasetIds=${first}&includeTotalCount=true`);
    expect(counted.result.pagination.total_count).toBe(1);
    const agg = await account.call(
      'GET',
      `/events/indicators/aggregate?datasetIds=${first}&aggregateBy=value`,
    );
    expect(agg.body.result.aggregations).toEqual([{ value: 'shared.example', count: 1 }]);
    // Every shard's record carries the same uuid, and together they link every event.
    expect(
      one.result.indicators
        .flatMap((i) => i.relatedEvents ?? [])
        .map((r) => r.eventId)
        .sort(),
    ).toEqual(inFirst.map((e) => e.uuid).sort());
    const uuid = [...uuids][0] as string;
    const got = await account.call('GET', `/events/dataset/${first}/indicators/${uuid}`);
    expect(got.status).toBe(200);
    expect(got.body.result.value).toBe('shared.example');

    const other = await listIndicators(account, `datasetIds=${second}`);
    expect(other.result.indicators).toHaveLength(1);
    expect(other.result.indicators[0]?.uuid).not.toBe(uuid);
    const both = await listIndicators(account, `datasetIds=${first}&datasetIds=${second}`);
    expect(new Set(both.result.indicators.map((i) => i.datasetId))).toEqual(new Set([first, second]));
    // Still one indicator once the events of the shard that saw it first are gone.
    const gone = await account.call('DELETE', `/events/${first}/delete`, {
      eventIds: inFirst.slice(0, 3).map((e) => e.uuid),
    });
    expect(gone.body.result).toBe(3);
    const after = await account.call(
      'GET',
      `/events/indicators/aggregate?datasetIds=${first}&aggregateBy=value`,
    );
    expect(after.body.result.aggregations).toEqual([{ value: 'shared.example', count: 1 }]);
    const recount = await listIndicators(account, `datasetIds=${first}&includeTotalCount=true`);
    expect(recount.result.pagination.total_count).toBe(1);
  });
});
