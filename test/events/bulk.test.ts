import { describe, expect, it } from 'vitest';
import { makeEvent, makeTestApp, type TestAccount } from '../helpers.ts';
import { create, dotted, list } from './support.ts';

const t = makeTestApp();

async function newDataset(account: TestAccount, name = 'Bulk feed'): Promise<string> {
  const res = await account.call('POST', '/events/dataset/create', { name, isPublic: false });
  expect(res.status).toBe(200);
  return res.body.result.uuid;
}

describe('POST /events/create/bulk (E03)', () => {
  it('answers 202, stores the valid items and reports each invalid one by index and field', async () => {
    const account = await t.account();
    const datasetId = await newDataset(account);
    const data = [
      makeEvent({ attacker: 'valid zero' }),
      makeEvent({ date: 'yesterday' }),
      makeEvent({ category: undefined }),
      makeEvent({ attacker: 'valid three' }),
      makeEvent({ tags: 'not-a-list', tlp: 5 }),
    ];
    const res = await account.call('POST', '/events/create/bulk', { datasetId, data });
    expect(res.status).toBe(202);
    expect(res.body.success).toBe(true);
    const r = res.body.result;
    expect(r.createdEventsCount).toBe(2);
    expect(r.errorCount).toBe(3);
    expect(r.queuedIndicatorsCount).toBe(2);
    expect(r.createBulkEventsRequestId).toEqual(expect.any(String));
    expect(r.createdEvents).toBeUndefined();
    expect(r.errors.map((e: { eventIndex: number }) => e.eventIndex)).toEqual([1, 2, 4]);
    const [one, two, four] = r.errors as { error: string }[];
    expect(one?.error).toMatch(/data\[1\]\.date/);
    expect(two?.error).toMatch(/data\[2\]\.category/);
    expect(four?.error).toMatch(/data\[4\]\.tags/);
    expect(four?.error).toMatch(/data\[4\]\.tlp/);

    const stored = await list(account, `datasetId=${datasetId}`);
    expect(stored.result.map((e: { attacker: string }) => e.attacker).sort()).toEqual([
      'valid three',
      'valid zero',
    ]);
  });

  it('gives eventIndex, uuid and shardId of each created event when asked', async () => {
    const account = await t.account();
    const datasetId = await newDataset(account);
    const data = [makeEvent(), makeEvent({ date: 'nope' }), makeEvent(), makeEvent()];
    const res = await account.call('POST', '/events/create/bulk', {
      datasetId,
      data,
      includeCreatedEvents: true,
    });
    expect(res.status).toBe(202);
    const created = res.body.result.createdEvents as { eventIndex: number; uuid: string; shardId: string }[];
    expect(created.map((c) => c.eventIndex)).toEqual([0, 2, 3]);
    for (const c of created) {
      expect(c.shardId).toEqual(expect.any(String));
      const got = await account.call('GET', `/events/dataset/${datasetId}/events/${c.uuid}`);
      expect(got.status).toBe(200);
      expect(got.body.result.event).toBe(data[c.eventIndex]?.event);
      expect(got.body.result.datasetId).toBe(datasetId);
    }
    const without = await account.call('POST', '/events/create/bulk', {
      datasetId,
      data: [makeEvent()],
      includeCreatedEvents: false,
    });
    expect(without.body.result.createdEvents).toBeUndefined();
  });

  it('counts only tags that did not exist before', async () => {
    const account = await t.account();
    const datasetId = await newDataset(account);
    const bulk = async (tagLists: string[][]) => {
      const res = await account.call('POST', '/events/create/bulk', {
        datasetId,
        data: tagLists.map((tags) => makeEvent({ tags })),
      });
      expect(res.status).toBe(202);
      return res.body.result.createdTagsCount as number;
    };
    expect(await bulk([['apt', 'botnet'], ['botnet'], ['apt']])).toBe(2);
    expect(await bulk([['botnet', 'c2'], ['c2']])).toBe(1);
    expect(await bulk([['apt'], ['botnet']])).toBe(0);
    await create(account, makeEvent({ tags: ['ddos'] }));
    expect(await bulk([['ddos', 'wiper']])).toBe(1);
    // Tags of refused items are not created.
    const res = await account.call('POST', '/events/create/bulk', {
      datasetId,
      data: [makeEvent({ tags: ['never'], date: 'bad' })],
    });
    expect(res.body.result.createdTagsCount).toBe(0);
    expect(await bulk([['never']])).toBe(1);
  });

  it('counts every indicator of every stored event as queued', async () => {
    const account = await t.account();
    const datasetId = await newDataset(account);
    const res = await account.call('POST', '/events/create/bulk', {
      datasetId,
      data: [
        makeEvent({
          indicators: [
            { indicatorType: 'ip', value: '192.0.2.1' },
            { indicatorType: 'ip', value: '192.0.2.2' },
          ],
        }),
        makeEvent(),
      ],
    });
    expect(res.body.result.queuedIndicatorsCount).toBe(4);
    const found = await list(
      account,
      `datasetId=${datasetId}&${dotted([{ field: 'indicator', op: 'equals', value: '192.0.2.2' }])}`,
    );
    expect(found.result).toHaveLength(1);
  });

  it('takes 10,000 events in one request', async () => {
    const account = await t.account();
    const datasetId = await newDataset(account);
    const data = Array.from({ length: 10_000 }, (_, i) =>
      makeEvent({ tags: [`batch-${i % 50}`], attacker: `Actor ${i % 7}` }),
    );
    const res = await account.call('POST', '/events/create/bulk', { datasetId, data });
    expect(res.status).toBe(202);
    expect(res.body.result.createdEventsCount).toBe(10_000);
    expect(res.body.result.errorCount).toBe(0);
    expect(res.body.result.createdTagsCount).toBe(50);
    const all = await list(account, `datasetId=${datasetId}&pageSize=1`);
    expect(all.result_info.total_count).toBe(10_000);
    const tagged = await list(
      account,
      `datasetId=${datasetId}&pageSize=1&${dotted([{ field: 'tags', op: 'equals', value: 'batch-7' }])}`,
    );
    expect(tagged.result_info.total_count).toBe(200);
  });

  it('refuses more events than the configured limit', async () => {
    const small = makeTestApp({ maxBulkEvents: 3 });
    const account = await small.account();
    const datasetId = await newDataset(account);
    const res = await account.call('POST', '/events/create/bulk', {
      datasetId,
      data: [makeEvent(), makeEvent(), makeEvent(), makeEvent()],
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]?.message).toMatch(/^data:/);
    expect((await list(account, `datasetId=${datasetId}`)).result).toEqual([]);
  });

  it('needs datasetId and a non-empty data list', async () => {
    const account = await t.account();
    const datasetId = await newDataset(account);
    const noDataset = await account.call('POST', '/events/create/bulk', { data: [makeEvent()] });
    expect(noDataset.status).toBe(400);
    expect(noDataset.body.errors[0]?.message).toMatch(/^datasetId:/);
    const empty = await account.call('POST', '/events/create/bulk', { datasetId, data: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.errors[0]?.message).toMatch(/^data:/);
    const notList = await account.call('POST', '/events/create/bulk', { datasetId, data: makeEvent() });
    expect(notList.status).toBe(400);
    const unknown = await account.call('POST', '/events/create/bulk', {
      datasetId: 'no-such-dataset',
      data: [makeEvent()],
    });
    expect(unknown.status).toBe(404);
  });
});
