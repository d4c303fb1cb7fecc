import { describe, expect, it } from 'vitest';
import { makeEvent, makeTestApp, type TestAccount } from '../helpers.ts';
import {
  bulkCreate,
  createDataset,
  expectAggregation,
  type ListedEvent,
  listAll,
  type Question,
  variedEvents,
} from './support.ts';

const QUESTIONS: Question[] = [
  { by: ['attacker'] },
  { by: ['targetIndustry', 'tlp'] },
  { by: ['tags'] },
  { by: ['tags', 'attacker'], interval: 'week' },
  { by: ['attacker'], interval: 'day' },
  { by: ['mitreAttack', 'targetIndustry'], interval: 'month', limit: 6 },
  { by: ['attackerCountry', 'category'] },
];

/** Every question answered by E12 equals the count made by hand from GET /events, right now. */
async function expectInStep(account: TestAccount, datasetId: string, step: string): Promise<ListedEvent[]> {
  const events = await listAll(account, [datasetId]);
  for (const q of QUESTIONS) {
    await expectAggregation(account, [datasetId], events, q).catch((err: Error) => {
      err.message = `after ${step}: ${err.message}`;
      throw err;
    });
  }
  // A date range as well, around the middle of the events.
  const dates = events.map((e) => Date.parse(e.date)).sort((a, b) => a - b);
  const startMs = dates[Math.floor(dates.length / 4)] as number;
  const endMs = dates[Math.floor((dates.length * 3) / 4)] as number;
  await expectAggregation(account, [datasetId], events, { by: ['attacker', 'tags'], startMs, endMs });
  return events;
}

for (const [label, shardMaxEvents] of [
  ['one shard', undefined],
  ['shards of 7 events', 7],
] as const) {
  describe(`aggregations stay correct after writes (${label})`, () => {
    it('edits, tag changes and new events are counted at once', async () => {
      const t = makeTestApp(shardMaxEvents ? { shardMaxEvents } : {});
      const account = await t.account();
      const ds = await createDataset(account, 'Rollups');
      await bulkCreate(account, ds, variedEvents(30, 400));
      let events = await expectInStep(account, ds, 'the first bulk create');
      const pick = (i: number) => events[i % events.length] as ListedEvent;

      const patch = async (e: ListedEvent, body: Record<string, unknown>) => {
        const res = await account.call('PATCH', `/events/${e.uuid}`, { datasetId: ds, ...body });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      };

      // Attacker edits, including to a brand-new value and to one other events already have.
      await patch(pick(0), { attacker: 'Brand New Actor' });
      await patch(pick(1), { attacker: pick(2).attacker === '' ? 'Turla' : pick(2).attacker });
      await patch(pick(3), { attacker: 'Brand New Actor' });
      await patch(pick(14), { attacker: null });
      events = await expectInStep(account, ds, 'attacker edits');

      // Date edits: to another day, week, month and year; then back.
      await patch(pick(4), { date: '2025-07-14T10:00:00Z' });
      await patch(pick(5), { date: '2023-02-28T23:59:59Z' });
      await patch(pick(6), { date: pick(7).date });
      events = await expectInStep(account, ds, 'date edits');
      await patch(pick(4), { date: '2024-12-31T00:00:00Z' });
      events = await expectInStep(account, ds, 'a second date edit');

      // Industry and other single-valued edits.
      await patch(pick(8), { targetIndustry: 'Healthcare' });
      await patch(pick(9), { targetIndustry: 'Healthcare', tlp: 'red', attackerCountry: 'Germany' });
      await patch(pick(10), { category: 'Ransomware', attacker: 'Brand New Actor' });
      events = await expectInStep(account, ds, 'industry edits');

      // Tags added (E24): new tags, tags other events have, and to an event that had none.
      const untagged = events.find((e) => (e.tags as string[]).length === 0);
      expect(untagged).toBeDefined();
      for (const [e, tags] of [
        [pick(11), ['fresh-tag']],
        [pick(12), ['fresh-tag', 'botnet']],
        [untagged as ListedEvent, ['was-empty']],
      ] as const) {
        const res = await account.call('POST', `/events/event_tag/${e.uuid}/create`, { tags });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      }
      events = await expectInStep(account, ds, 'tags added');

      // Tags removed (E25): one tag, and every tag (the event then counts under null).
      const tagged = events.filter((e) => (e.tags as string[]).length > 1);
      const one = tagged[0] as ListedEvent;
      const res1 = await account.call('DELETE', `/events/event_tag/${one.uuid}`, {
        tags: [(one.tags as string[])[0]],
      });
      expect(res1.status).toBe(200);
      const all = tagged[1] as ListedEvent;
      const res2 = await account.call('DELETE', `/events/event_tag/${all.uuid}`);
      expect(res2.status).toBe(200);
      events = await expectInStep(account, ds, 'tags removed');
      expect(events.find((e) => e.uuid === all.uuid)?.tags).toEqual([]);

      // A tag edit after a date edit on the same event.
      await patch(pick(13), { date: '2025-06-01T08:00:00Z' });
      await account.call('POST', `/events/event_tag/${pick(13).uuid}/create`, { tags: ['late'] });
      events = await expectInStep(account, ds, 'a date edit then a tag');

      // New events: one at a time, then in bulk.
      for (const attacker of ['Brand New Actor', 'Another New Actor', 'Sandworm']) {
        const res = await account.call('POST', '/events/create', makeEvent({ datasetId: ds, attacker }));
        expect(res.status).toBe(200);
      }
      events = await expectInStep(account, ds, 'single creates');
      await bulkCreate(account, ds, variedEvents(25, 500));
      events = await expectInStep(account, ds, 'a second bulk create');
      expect(events).toHaveLength(58);

      // And edits to the new events.
      const newest = events.filter((e) => e.attacker === 'Another New Actor');
      await patch(newest[0] as ListedEvent, { attacker: 'Renamed Actor', targetIndustry: 'Finance' });
      await account.call('POST', `/events/event_tag/${(newest[0] as ListedEvent).uuid}/create`, {
        tags: ['fresh-tag'],
      });
      await expectInStep(account, ds, 'edits to new events');
    });
  });
}

describe('aggregations stay correct after deletes and moves (E09/E10)', () => {
  for (const shardMaxEvents of [undefined, 5]) {
    it(`counts neither deleted nor moved-away events, and counts moved-in ones (shards of ${shardMaxEvents ?? 'any size'})`, async () => {
      const t = makeTestApp(shardMaxEvents ? { shardMaxEvents } : {});
      const account = await t.account();
      const a = await createDataset(account, 'A');
      const b = await createDataset(account, 'B');
      await bulkCreate(account, a, variedEvents(20, 1000));
      await bulkCreate(account, b, variedEvents(8, 1100));
      let inA = await expectInStep(account, a, 'creates (A)');
      await expectInStep(account, b, 'creates (B)');
      const newest = [...inA].sort((x, y) => x.uuid.localeCompare(y.uuid));

      // Delete the first and the last event created, and one in the middle.
      const doomed = [newest[0], newest[10], newest[19]].map((e) => (e as ListedEvent).uuid);
      const del = await account.call('DELETE', `/events/${a}/delete`, { eventIds: doomed });
      expect(del.status, JSON.stringify(del.body)).toBe(200);
      inA = await expectInStep(account, a, 'deletes');
      expect(inA).toHaveLength(17);

      // Move three events A → B, including the last one left in A.
      const sorted = [...inA].sort((x, y) => x.uuid.localeCompare(y.uuid));
      const moving = [sorted[0], sorted[5], sorted[16]].map((e) => (e as ListedEvent).uuid);
      const move = await account.call('POST', `/events/dataset/${a}/move`, {
        eventIds: moving,
        targetDatasetId: b,
      });
      expect(move.status, JSON.stringify(move.body)).toBe(200);
      inA = await expectInStep(account, a, 'a move out (A)');
      let inB = await expectInStep(account, b, 'a move in (B)');
      expect(inA).toHaveLength(14);
      expect(inB).toHaveLength(11);
      await expectAggregation(account, [a, b], [...inA, ...inB], {
        by: ['attacker', 'tags'],
        interval: 'week',
      });

      // Move them back, then edit and tag them where they landed.
      const back = inB.filter((e) => moving.includes(e.uuid)).map((e) => e.uuid);
      expect(back).toHaveLength(3);
      const moveBack = await account.call('POST', `/events/dataset/${b}/move`, {
        eventIds: back,
        targetDatasetId: a,
      });
      expect(moveBack.status, JSON.stringify(moveBack.body)).toBe(200);
      inA = await expectInStep(account, a, 'a move back (A)');
      inB = await expectInStep(account, b, 'a move back (B)');
      for (const uuid of inA.filter((e) => back.includes(e.uuid)).map((e) => e.uuid)) {
        const res = await account.call('PATCH', `/events/${uuid}`, {
          datasetId: a,
          attacker: 'Came Back',
          targetIndustry: 'Mining',
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        await account.call('POST', `/events/event_tag/${uuid}/create`, { tags: ['returned'] });
      }
      inA = await expectInStep(account, a, 'edits after the move back');
      expect(inA.filter((e) => e.attacker === 'Came Back')).toHaveLength(3);
      await expectInStep(account, b, 'edits after the move back (B)');
    });
  }
});
