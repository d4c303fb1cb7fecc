/**
 * The column copy behind E12 can be built a chunk at a time (the storage thread does so, so the
 * first aggregation of a large shard does not hold up other calls). Writes that land between
 * chunks must leave the finished copy exactly as a copy built in one go.
 */
import { describe, expect, it } from 'vitest';
import type { LocalShardClient } from '../../src/store/shard/client.ts';
import { makeEvent, makeTestApp } from '../helpers.ts';
import { countByHand, type ListedEvent } from './support.ts';

describe('E12 column copy built in chunks', () => {
  it('ends exact when events are added, edited, retagged and deleted between chunks', async () => {
    const t = makeTestApp();
    const account = await t.account();
    const ds = (await account.call('POST', '/events/dataset/create', { name: 'Warm', isPublic: false })).body
      .result.uuid as string;
    const attackers = ['Turla', 'Kimsuky', 'Sandworm'];
    const bulk = async (count: number, offset: number) =>
      (
        await account.call('POST', '/events/create/bulk', {
          datasetId: ds,
          includeCreatedEvents: true,
          data: Array.from({ length: count }, (_, i) =>
            makeEvent({ attacker: attackers[(i + offset) % 3], tags: [`t${(i + offset) % 4}`] }),
          ),
        })
      ).body.result.createdEvents.map((c: { uuid: string }) => c.uuid) as string[];
    const first = await bulk(30, 0);
    const shard = (t.stores.shards as LocalShardClient).open({ accountId: account.id, shardId: `${ds}.0` });

    expect(shard.warmColumns(10)).toBe(false); // rows 0–9 read, 10–29 still to read
    await bulk(5, 30); // newer than what was read: left to the build
    const edit = async (uuid: string, attacker: string) =>
      expect((await account.call('PATCH', `/events/${uuid}`, { datasetId: ds, attacker })).status).toBe(200);
    await edit(first[2] as string, 'Edited Early'); // already read: patched in the copy
    await edit(first[20] as string, 'Edited Late'); // not read yet: read as edited
    expect(
      (await account.call('POST', `/events/event_tag/${first[3]}/create`, { datasetId: ds, tags: ['extra'] }))
        .status,
    ).toBe(200);
    const deleted = await account.call('DELETE', `/events/${ds}/delete`, { eventIds: [first[4], first[25]] });
    expect(deleted.body.result).toBe(2);
    expect(shard.warmColumns(10)).toBe(false);
    expect(shard.warmColumns(100)).toBe(true);

    const listed = (await account.call('GET', `/events?datasetId=${ds}&pageSize=1000`)).body
      .result as ListedEvent[];
    expect(listed).toHaveLength(33);
    for (const by of ['attacker', 'tags'] as const) {
      const res = await account.call('GET', `/events/aggregate?aggregateBy=${by}&datasetId=${ds}`);
      const want = countByHand(listed, { by: [by] });
      expect(res.body.result.aggregations, by).toEqual(want.rows);
      expect(res.body.result.total).toBe(33);
    }
  });
});
