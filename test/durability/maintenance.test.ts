/**
 * Shard housekeeping: journal entries older than the revert window are forgotten, and the
 * full-text entries that removed events leave behind are deleted in bounded batches.
 */
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/domain/context.ts';
import { maintainShards } from '../../src/domain/datasets/maintenance.ts';
import { makeEvent, makeTestApp } from '../helpers.ts';

const DAY = 86_400_000;

describe('shard maintenance', () => {
  it('prunes the journal past the revert window and clears the full text of removed events', async () => {
    const t = makeTestApp();
    const account = await t.account();
    const ds = (await account.call('POST', '/events/dataset/create', { name: 'Kept', isPublic: false })).body
      .result.uuid as string;
    const data = Array.from({ length: 5 }, (_, i) => makeEvent({ insight: `marker${i} sinkholed` }));
    const created = await account.call('POST', '/events/create/bulk', {
      datasetId: ds,
      includeCreatedEvents: true,
      data,
    });
    const uuids = (created.body.result.createdEvents as { uuid: string }[]).map((e) => e.uuid);
    const beforeDelete = (await account.call('GET', `/events/${ds}/bookmark`)).body.result.bookmark;
    t.clock.advance(1000);
    const removed = uuids.slice(0, 3);
    expect((await account.call('DELETE', `/events/${ds}/delete`, { eventIds: removed })).body.result).toBe(3);
    const sql = t.databases.shard(account.id, `${ds}.0`);
    const count = (table: string) => sql.one<{ n: number }>(`SELECT count(*) AS n FROM ${table}`)?.n;
    expect(count('fts_ghosts')).toBe(3);
    const deps = { stores: t.stores, clock: t.clock, config: defaultConfig };

    // Inside the window nothing is pruned; ghosts go a batch at a time.
    const first = await maintainShards(deps, { ghostsPerShard: 2 });
    // Blocks of 4 in tests: the deletes overlaid 3 of the first block's 4 events.
    expect(first).toEqual({ shards: 1, journalEntriesPruned: 0, ghostsCleared: 2, blocksRebuilt: 1 });
    expect(count('postings_overlay')).toBe(0);
    const second = await maintainShards(deps, { ghostsPerShard: 2 });
    expect(second.ghostsCleared).toBe(1);
    expect(count('fts_ghosts')).toBe(0);
    const find = async (word: string) =>
      (
        await account.call(
          'GET',
          `/events?datasetId=${ds}&search=${encodeURIComponent(JSON.stringify([{ field: 'event', op: 'find', value: word }]))}`,
        )
      ).body.result.map((e: { uuid: string }) => e.uuid);
    expect((await find('sinkholed')).sort()).toEqual(uuids.slice(3).sort());

    // The removed events can still come back within the window, their full text with them.
    const back = await account.call('POST', `/events/${ds}/revert-do`, { revertBookmark: beforeDelete });
    expect(back.body.result.eventsChanged).toBe(3);
    expect(await find('marker1')).toEqual([uuids[1]]);
    expect((await find('sinkholed')).sort()).toEqual([...uuids].sort());

    // Past the window, the journal is forgotten.
    const entries = count('journal') ?? 0;
    expect(entries).toBeGreaterThan(0);
    t.clock.advance((defaultConfig.revertWindowDays + 1) * DAY);
    const late = await maintainShards(deps);
    expect(late.journalEntriesPruned).toBe(entries);
    expect(count('journal')).toBe(0);
    expect(count('journal_events')).toBe(0);
    expect(count('journal_raw')).toBe(0);
  });
});
