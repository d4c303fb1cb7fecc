import { describe, expect, it } from 'vitest';
import { makeEvent, makeTestApp, type TestAccount } from '../helpers.ts';
import { createEvent, newDataset } from '../indicators/support.ts';

const t = makeTestApp({ shardMaxEvents: 3 });

async function getEvent(account: TestAccount, datasetId: string, uuid: string) {
  const res = await account.call('GET', `/events/dataset/${datasetId}/events/${uuid}`);
  expect(res.status).toBe(200);
  return res.body.result;
}

async function refs(account: TestAccount, datasetId: string, uuid: string) {
  const e = await getEvent(account, datasetId, uuid);
  return {
    references: [...e.references].sort(),
    referencesIds: e.referencesIds.length,
    numReferences: e.numReferences,
    referenced: [...e.referenced].sort(),
    numReferenced: e.numReferenced,
  };
}

describe('event references (E22, E23)', () => {
  it('relates events across datasets and shards, exact on both sides', async () => {
    const account = await t.account();
    const a = await newDataset(account, 'a');
    const b = await newDataset(account, 'b');
    const evs = [];
    for (let i = 0; i < 5; i++) evs.push(await createEvent(account, { datasetId: a }));
    const far = await createEvent(account, { datasetId: b });
    const [from, t1, t2] = evs as unknown as [{ uuid: string }, { uuid: string }, { uuid: string }];
    const last = evs[4] as { uuid: string };
    expect(t.stores.catalog(account.id).shardsOf(a).length).toBeGreaterThan(1);

    const res = await account.call('POST', `/events/relate/${from.uuid}/create`, {
      eventIds: [t1.uuid, last.uuid, far.uuid],
    });
    expect(res.status).toBe(200);
    expect(res.body.result).toEqual({ success: true });
    // Relating again changes nothing.
    await account.call('POST', `/events/relate/${from.uuid}/create`, { eventIds: [t1.uuid] });

    const mine = await refs(account, a, from.uuid);
    expect(mine.references).toEqual([t1.uuid, last.uuid, far.uuid].sort());
    expect(mine.numReferences).toBe(3);
    expect(mine.referencesIds).toBe(3);
    expect(mine.numReferenced).toBe(0);
    for (const [ds, target] of [
      [a, t1],
      [a, last],
      [b, far],
    ] as const) {
      const other = await refs(account, ds, target.uuid);
      expect(other.referenced).toEqual([from.uuid]);
      expect(other.numReferenced).toBe(1);
      expect(other.numReferences).toBe(0);
    }
    expect((await refs(account, a, t2.uuid)).numReferenced).toBe(0);
  });

  it('refuses unknown targets and self references with 400 naming eventIds[i]', async () => {
    const account = await t.account();
    const ev = await createEvent(account);
    const ok = await createEvent(account);
    const unknown = await account.call('POST', `/events/relate/${ev.uuid}/create`, {
      eventIds: [ok.uuid, '0190aaaa-aaaa-7aaa-8aaa-aaaaaaaaaaaa'],
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0]?.message).toContain('eventIds[1]');
    const self = await account.call('POST', `/events/relate/${ev.uuid}/create`, { eventIds: [ev.uuid] });
    expect(self.status).toBe(400);
    expect(self.body.errors[0]?.message).toContain('eventIds[0]');
    expect((await refs(account, ev.datasetId, ev.uuid)).numReferences).toBe(0);
    const missing = await account.call('POST', '/events/relate/0190aaaa-aaaa-7aaa-8aaa-aaaaaaaaaaaa/create', {
      eventIds: [ok.uuid],
    });
    expect(missing.status).toBe(404);
  });

  it('removes references named in a JSON body, in query parameters, or all of them', async () => {
    const account = await t.account();
    const from = await createEvent(account);
    const targets = [];
    for (let i = 0; i < 5; i++) targets.push((await createEvent(account)).uuid);
    await account.call('POST', `/events/relate/${from.uuid}/create`, { eventIds: targets });
    const [t0, t1, t2, t3, t4] = targets as [string, string, string, string, string];

    const body = await account.call('DELETE', `/events/relate/${from.uuid}`, { eventIds: [t0] });
    expect(body.status).toBe(200);
    expect(body.body.result).toEqual({ success: true });
    expect((await refs(account, from.datasetId, from.uuid)).references).toEqual([t1, t2, t3, t4].sort());
    expect((await refs(account, from.datasetId, t0)).numReferenced).toBe(0);

    const query = await account.call('DELETE', `/events/relate/${from.uuid}?eventIds=${t1}&eventIds=${t2}`);
    expect(query.status).toBe(200);
    expect((await refs(account, from.datasetId, from.uuid)).references).toEqual([t3, t4].sort());

    const all = await account.call('DELETE', `/events/relate/${from.uuid}`);
    expect(all.status).toBe(200);
    const after = await refs(account, from.datasetId, from.uuid);
    expect(after.numReferences).toBe(0);
    expect(after.references).toEqual([]);
    expect((await refs(account, from.datasetId, t4)).referenced).toEqual([]);
  });
});

describe('event tags (E24, E25)', () => {
  it('adds tags, creating unknown ones in the account, and search sees them at once', async () => {
    const account = await t.account();
    const ev = await createEvent(account, { tags: ['malware'] });
    const res = await account.call('POST', `/events/event_tag/${ev.uuid}/create`, {
      tags: ['brand-new-tag', 'malware'],
    });
    expect(res.status).toBe(200);
    expect(res.body.result).toEqual({ success: true });
    expect((await getEvent(account, ev.datasetId, ev.uuid)).tags).toEqual(['malware', 'brand-new-tag']);
    const tags = await account.call('GET', '/events/tags?search=brand-new-tag');
    expect(tags.body.result.tags.map((x: { value: string }) => x.value)).toContain('brand-new-tag');
    const found = await account.call(
      'GET',
      '/events?search.field=tags&search.op=equals&search.value=brand-new-tag',
    );
    expect(found.status).toBe(200);
    expect(found.body.result.map((e: { uuid: string }) => e.uuid)).toEqual([ev.uuid]);
    const empty = await account.call('POST', `/events/event_tag/${ev.uuid}/create`, { tags: [] });
    expect(empty.status).toBe(400);
  });

  it('removes tags named in a body, in the query, or all of them', async () => {
    const account = await t.account();
    const ev = await createEvent(account, { tags: ['a', 'b', 'c', 'd'] });
    const tagsNow = async () => (await getEvent(account, ev.datasetId, ev.uuid)).tags;
    expect((await account.call('DELETE', `/events/event_tag/${ev.uuid}`, { tags: ['a'] })).status).toBe(200);
    expect(await tagsNow()).toEqual(['b', 'c', 'd']);
    expect((await account.call('DELETE', `/events/event_tag/${ev.uuid}?tags=b`)).status).toBe(200);
    expect(await tagsNow()).toEqual(['c', 'd']);
    const search = await account.call('GET', '/events?search.field=tags&search.op=equals&search.value=b');
    expect(search.body.result).toEqual([]);
    const all = await account.call('DELETE', `/events/event_tag/${ev.uuid}`);
    expect(all.status).toBe(200);
    expect(all.body.result).toEqual({ success: true });
    expect(await tagsNow()).toEqual([]);
  });
});

describe('relationships (E21, E20, E04)', () => {
  it('creates parent→child relationships with per-child errors, and hasChildren is exact', async () => {
    const account = await t.account();
    const ds = await newDataset(account);
    const [p, c1, c2, lone] = [
      await createEvent(account, { datasetId: ds }),
      await createEvent(account, { datasetId: ds }),
      await createEvent(account, { datasetId: ds }),
      await createEvent(account, { datasetId: ds }),
    ];
    const missing = '0190aaaa-aaaa-7aaa-8aaa-aaaaaaaaaaaa';
    const res = await account.call('POST', '/events/relationships/create', {
      parentId: p.uuid,
      childIds: [c1.uuid, c2.uuid, missing, p.uuid],
      relationshipType: 'caused_by',
    });
    expect(res.status).toBe(200);
    const r = res.body.result;
    expect(r.relationshipsCreated).toBe(2);
    expect(r.childIds).toEqual([c1.uuid, c2.uuid]);
    expect(r.success).toBe(false);
    expect(r.relationships[0]).toEqual({
      childDatasetId: ds,
      childId: c1.uuid,
      parentDatasetId: ds,
      parentId: p.uuid,
      relationshipType: 'caused_by',
    });
    expect(r.errors.map((e: { childId: string; errorType: string }) => [e.childId, e.errorType])).toEqual([
      [missing, 'not_found'],
      [p.uuid, 'self_relationship'],
    ]);
    const again = await account.call('POST', '/events/relationships/create', {
      parentId: p.uuid,
      childIds: [c1.uuid],
      relationshipType: 'caused_by',
    });
    expect(again.body.result.errors[0].errorType).toBe('duplicate');
    expect(again.body.result.relationshipsCreated).toBe(0);
    const cycle = await account.call('POST', '/events/relationships/create', {
      parentId: c1.uuid,
      childIds: [p.uuid],
    });
    expect(cycle.body.result.errors[0].errorType).toBe('cycle');
    expect(cycle.body.result.relationshipsCreated).toBe(0);

    expect((await getEvent(account, ds, p.uuid)).hasChildren).toBe(true);
    expect((await getEvent(account, ds, c1.uuid)).hasChildren).toBe(false);
    expect((await getEvent(account, ds, lone.uuid)).hasChildren).toBe(false);
    const withChildren = await account.call(
      'GET',
      `/events?datasetId=${ds}&search.field=hasChildren&search.op=equals&search.value=true`,
    );
    expect(withChildren.status).toBe(200);
    expect(withChildren.body.result.map((e: { uuid: string }) => e.uuid)).toEqual([p.uuid]);
    const unknownParent = await account.call('POST', '/events/relationships/create', {
      parentId: missing,
      childIds: [c1.uuid],
    });
    expect(unknownParent.status).toBe(404);
  });

  /** a → b, a → c, b → d, c → d (diamond); d → e typed "derived". All in one dataset. */
  async function diamond(account: TestAccount) {
    const ds = await newDataset(account);
    const mk = (indicatorType: string, indicator: string) =>
      createEvent(account, { datasetId: ds, indicatorType, indicator });
    const a = await mk('domain', 'a.example');
    const b = await mk('ip', '192.0.2.10');
    const c = await mk('domain', 'c.example');
    const d = await mk('domain', 'd.example');
    const e = await mk('ip', '192.0.2.11');
    const rel = async (parentId: string, childIds: string[], relationshipType?: string) => {
      const res = await account.call('POST', '/events/relationships/create', {
        parentId,
        childIds,
        relationshipType,
      });
      expect(res.body.result.relationshipsCreated).toBe(childIds.length);
    };
    await rel(a.uuid, [b.uuid, c.uuid]);
    await rel(b.uuid, [d.uuid]);
    await rel(c.uuid, [d.uuid]);
    await rel(d.uuid, [e.uuid], 'derived');
    return { ds, a, b, c, d, e };
  }

  it('walks related events by direction and depth without looping on a diamond', async () => {
    const account = await t.account();
    const g = await diamond(account);
    const related = async (id: string, query = '') => {
      const res = await account.call('GET', `/events/${id}/relationships?datasetId=${g.ds}${query}`);
      expect(res.status, query).toBe(200);
      return res.body;
    };
    const ids = (body: { result: { uuid: string }[] }) => body.result.map((e) => e.uuid);

    const desc = await related(g.a.uuid, '&direction=descendants');
    expect(ids(desc)[0]).toBe(g.a.uuid);
    expect(ids(desc).slice(1, 3).sort()).toEqual([g.b.uuid, g.c.uuid].sort());
    expect(ids(desc).slice(3)).toEqual([g.d.uuid, g.e.uuid]);
    expect(desc.result_info.total_count).toBe(5);

    expect(
      ids(await related(g.a.uuid, '&direction=descendants&maxDepth=1&includeParent=false')).sort(),
    ).toEqual([g.b.uuid, g.c.uuid].sort());
    expect(ids(await related(g.a.uuid, '&direction=ancestors&includeParent=false'))).toEqual([]);
    expect(ids(await related(g.e.uuid, '&direction=ancestors&includeParent=false')).slice(0, 1)).toEqual([
      g.d.uuid,
    ]);
    expect(ids(await related(g.e.uuid, '&direction=ancestors&includeParent=false')).sort()).toEqual(
      [g.a.uuid, g.b.uuid, g.c.uuid, g.d.uuid].sort(),
    );
    const both = ids(await related(g.d.uuid, '&includeParent=false'));
    expect(both.sort()).toEqual([g.a.uuid, g.b.uuid, g.c.uuid, g.e.uuid].sort());
    expect(ids(await related(g.d.uuid, '&relationshipTypes=derived&includeParent=false'))).toEqual([
      g.e.uuid,
    ]);
    expect(ids(await related(g.a.uuid, '&maxDepth=0'))).toEqual([g.a.uuid]);

    const ipTypeId = (await getEvent(account, g.ds, g.b.uuid)).indicatorTypeId;
    expect(ids(await related(g.a.uuid, `&indicatorTypeIds=${ipTypeId}&includeParent=false`)).sort()).toEqual(
      [g.b.uuid, g.e.uuid].sort(),
    );
    const page2 = await related(g.a.uuid, '&direction=descendants&pageSize=2&page=2');
    expect(ids(page2)).toEqual(ids(desc).slice(2, 4));
    expect(page2.result_info).toMatchObject({ page: 2, per_page: 2, count: 2, total_count: 5 });

    const noDataset = await account.call('GET', `/events/${g.a.uuid}/relationships`);
    expect(noDataset.status).toBe(400);
    const badDirection = await account.call(
      'GET',
      `/events/${g.a.uuid}/relationships?datasetId=${g.ds}&direction=up`,
    );
    expect(badDirection.status).toBe(400);
    const badDepth = await account.call(
      'GET',
      `/events/${g.a.uuid}/relationships?datasetId=${g.ds}&maxDepth=21`,
    );
    expect(badDepth.status).toBe(400);
  });

  it('E04 creates events with parentIndex relationships and reports the three counts', async () => {
    const account = await t.account();
    const ds = await newDataset(account);
    const res = await account.call('POST', '/events/create/bulk/relationships', {
      datasetId: ds,
      data: [
        makeEvent({ indicator: 'root.example' }),
        { ...makeEvent({ indicator: 'kid1.example' }), parentIndex: 0 },
        { ...makeEvent({ indicator: 'kid2.example' }), parentIndex: 0, relationshipType: 'caused_by' },
        { ...makeEvent({ indicator: 'orphan.example' }), parentIndex: 9 },
        makeEvent({ date: 'not a date' }),
      ],
    });
    expect(res.status).toBe(200);
    const r = res.body.result;
    expect(r.createdEventsCount).toBe(4);
    expect(r.createdIndicatorsCount).toBe(4);
    expect(r.createdRelationshipsCount).toBe(2);
    expect(r.errorCount).toBe(2);
    expect(r.errors.map((e: { eventIndex: number }) => e.eventIndex)).toEqual([3, 4]);
    const events = await account.call('GET', `/events?datasetId=${ds}&pageSize=10`);
    const root = events.body.result.find((e: { indicator: string }) => e.indicator === 'root.example');
    expect(root.hasChildren).toBe(true);
    const kids = await account.call(
      'GET',
      `/events/${root.uuid}/relationships?datasetId=${ds}&direction=descendants&includeParent=false`,
    );
    expect(kids.body.result.map((e: { indicator: string }) => e.indicator).sort()).toEqual([
      'kid1.example',
      'kid2.example',
    ]);
  });
});
