import { describe, expect, it } from 'vitest';
import { makeTestApp, type TestAccount } from '../helpers.ts';
import { cond, createEvent, listIndicators, newDataset } from '../indicators/support.ts';

const t = makeTestApp();

interface Edge {
  id: string;
  relationshipType: string;
  source: string;
  target: string;
  sourceType: string;
  targetType: string;
  sourceId: string;
  targetId: string;
}

async function graph(account: TestAccount, query: string) {
  const res = await account.call('GET', `/events/graph?${query}`);
  expect(res.status, `${query}: ${JSON.stringify(res.body.errors)}`).toBe(200);
  return res.body.result as {
    edges: Edge[];
    node: Record<string, unknown> | null;
    nodes: Record<string, unknown>[];
    cursor?: string;
  };
}

/** Parent p (tags malware + actor tag "Flying Yeti", indicator evil), child c via caused_by, r related_to from p. */
async function world(account: TestAccount) {
  const ds = await newDataset(account);
  const actor = await account.call('POST', '/events/tags/create', { value: 'Flying Yeti' });
  expect(actor.status).toBe(200);
  const p = await createEvent(account, { datasetId: ds, indicator: 'graph-evil.example', tags: ['malware'] });
  const c = await createEvent(account, { datasetId: ds, indicator: 'child.example', tags: [] });
  const r = await createEvent(account, { datasetId: ds, indicator: 'ref.example', tags: [] });
  await account.call('POST', '/events/relationships/create', {
    parentId: p.uuid,
    childIds: [c.uuid],
    relationshipType: 'caused_by',
  });
  await account.call('POST', '/events/relationships/create', { parentId: p.uuid, childIds: [r.uuid] });
  const tags = await account.call('GET', '/events/tags?pageSize=100');
  const tagUuid = (v: string): string =>
    tags.body.result.tags.find((x: { value: string }) => x.value === v)?.uuid as string;
  const ind = await listIndicators(
    account,
    `datasetIds=${ds}&${cond('search', 'value', 'equals', 'graph-evil.example')}`,
  );
  return {
    ds,
    p,
    c,
    r,
    malware: tagUuid('malware'),
    yeti: tagUuid('Flying Yeti'),
    indicator: ind.result.indicators[0]?.uuid as string,
  };
}

describe('GET /events/graph (E15)', () => {
  it('expands an event seed to tags, actor, indicator and related events with deterministic edge ids', async () => {
    const account = await t.account();
    const w = await world(account);
    const g = await graph(account, `seeds=event:${w.p.uuid}`);
    const ids = g.edges.map((e) => e.id).sort();
    const P = `event:${w.p.uuid}`;
    expect(ids).toEqual(
      [
        `${P}→tag:${w.malware}:tagged_with`,
        `${P}→tag:${w.yeti}:attributed_to`,
        `${P}→event:${w.c.uuid}:caused_by`,
        `${P}→event:${w.r.uuid}:related_to`,
        `indicator:${w.indicator}→${P}:appears_in`,
      ].sort(),
    );
    const caused = g.edges.find((e) => e.relationshipType === 'caused_by') as Edge;
    expect(caused).toMatchObject({
      source: P,
      sourceId: w.p.uuid,
      sourceType: 'event',
      target: `event:${w.c.uuid}`,
      targetId: w.c.uuid,
      targetType: 'event',
    });
    expect(g.node).toMatchObject({ id: P });
    expect(g.nodes).toHaveLength(6);
    expect(g.nodes.every((n) => Object.keys(n).sort().join() === 'id,type,uuid')).toBe(true);

    const out = await graph(account, `seeds=event:${w.p.uuid}&direction=out`);
    expect(out.edges.every((e) => e.source === P)).toBe(true);
    expect(out.edges).toHaveLength(4);
    const inn = await graph(account, `seeds=event:${w.p.uuid}&direction=in`);
    expect(inn.edges.map((e) => e.relationshipType)).toEqual(['appears_in']);
    const childIn = await graph(account, `seeds=event:${w.c.uuid}&direction=in&relationshipTypes=caused_by`);
    expect(childIn.edges.map((e) => e.id)).toEqual([`${P}→event:${w.c.uuid}:caused_by`]);
    const onlyTags = await graph(
      account,
      `seeds=event:${w.p.uuid}&relationshipTypes=tagged_with,attributed_to`,
    );
    expect(onlyTags.edges.map((e) => e.relationshipType).sort()).toEqual(['attributed_to', 'tagged_with']);
  });

  it('expands indicator and tag seeds, merges several seeds and hydrates nodes on expand=nodes', async () => {
    const account = await t.account();
    const w = await world(account);
    const ind = await graph(account, `seeds=indicator:${w.indicator}&expand=nodes`);
    expect(ind.edges.map((e) => e.id)).toEqual([`indicator:${w.indicator}→event:${w.p.uuid}:appears_in`]);
    expect(ind.node).toMatchObject({
      id: `indicator:${w.indicator}`,
      value: 'graph-evil.example',
      indicatorType: 'domain',
    });
    const ev = ind.nodes.find((n) => n.id === `event:${w.p.uuid}`);
    expect(ev).toMatchObject({
      type: 'event',
      uuid: w.p.uuid,
      indicator: 'graph-evil.example',
      datasetId: w.ds,
    });

    const tag = await graph(account, `seeds=tag:${w.malware}&expand=nodes`);
    expect(tag.edges.map((e) => e.id)).toEqual([`event:${w.p.uuid}→tag:${w.malware}:tagged_with`]);
    expect(tag.node).toMatchObject({ value: 'malware' });
    const actor = await graph(account, `seeds=tag:${w.yeti}`);
    expect(actor.edges.map((e) => e.relationshipType)).toContain('attributed_to');

    const merged = await graph(account, `seeds=event:${w.p.uuid}&seeds=tag:${w.malware}`);
    expect(merged.node).toBeNull();
    const ids = merged.edges.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => id.endsWith(':tagged_with'))).toHaveLength(1);
    const nodeIds = merged.nodes.map((n) => n.id);
    expect(new Set(nodeIds).size).toBe(nodeIds.length);
  });

  it('pages the neighbours of one seed with a cursor', async () => {
    const account = await t.account();
    const ds = await newDataset(account);
    const hub = await createEvent(account, { datasetId: ds, tags: [] });
    const kids = [];
    for (let i = 0; i < 5; i++) kids.push((await createEvent(account, { datasetId: ds, tags: [] })).uuid);
    await account.call('POST', '/events/relationships/create', { parentId: hub.uuid, childIds: kids });
    const first = await graph(account, `seeds=event:${hub.uuid}&direction=out&limit=3`);
    expect(first.edges).toHaveLength(3);
    expect(first.cursor).toEqual(expect.any(String));
    const second = await graph(
      account,
      `seeds=event:${hub.uuid}&direction=out&limit=3&cursor=${encodeURIComponent(first.cursor as string)}`,
    );
    expect(second.edges).toHaveLength(2);
    expect(second.cursor).toBeUndefined();
    expect([...first.edges, ...second.edges].map((e) => e.targetId).sort()).toEqual([...kids].sort());

    const twoSeeds = await account.call(
      'GET',
      `/events/graph?seeds=event:${hub.uuid}&seeds=event:${kids[0]}&cursor=${encodeURIComponent(first.cursor as string)}`,
    );
    expect(twoSeeds.status).toBe(400);
    const junk = await account.call('GET', `/events/graph?seeds=event:${hub.uuid}&cursor=junk`);
    expect(junk.status).toBe(400);
  });

  it('refuses bad seeds, limits and types with 400', async () => {
    const account = await t.account();
    const seed = 'event:0190aaaa-aaaa-7aaa-8aaa-aaaaaaaaaaaa';
    const fifty = Array.from({ length: 50 }, () => `seeds=${seed}`).join('&');
    expect((await account.call('GET', `/events/graph?${fifty}`)).status).toBe(200);
    for (const q of [
      '',
      `${fifty}&seeds=${seed}`,
      `seeds=${seed}&limit=1001`,
      `seeds=${seed}&max_nodes=1001`,
      `seeds=${seed}&limit=0`,
      `seeds=${seed}&direction=sideways`,
      `seeds=${seed}&expand=edges`,
      `seeds=${seed}&relationshipTypes=knows`,
      'seeds=actor:1234',
      'seeds=event',
    ]) {
      const res = await account.call('GET', `/events/graph?${q}`);
      expect(res.status, q.slice(0, 80)).toBe(400);
      expect(res.body.success).toBe(false);
    }
    expect((await account.call('GET', `/events/graph?seeds=${seed}&limit=1000&max_nodes=1000`)).status).toBe(
      200,
    );
  });
});
