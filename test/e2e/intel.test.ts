import type Cloudflare from 'cloudflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ThreatEventView } from '../../src/domain/events/events.ts';
import { envelope, result, TestServer } from './server.ts';

interface Indicator {
  uuid: string;
  value: string;
  indicatorType: string;
  datasetId: string;
  relatedEvents?: { eventId: string }[];
  relatedEventsHasMore?: boolean;
}
interface Paged {
  indicators: Indicator[];
  pagination: { page: number; pageSize: number; totalCount: number; totalPages: number };
}

let counter = 0;
function makeEvent(overrides: Record<string, unknown> = {}) {
  counter++;
  return {
    category: 'Domain Resolution',
    date: new Date(Date.UTC(2025, 1, 1) + counter * 3_600_000).toISOString(),
    event: `Intel event ${counter}`,
    raw: { data: { n: counter } },
    tlp: 'amber',
    attacker: 'Flying Yeti',
    indicator: `intel${counter}.example`,
    indicatorType: 'domain',
    tags: ['malware'],
    ...overrides,
  };
}

describe('e2e: indicators, links and the graph through the SDK', () => {
  const server = new TestServer({ env: { THREATDESK_SHARD_MAX_EVENTS: '3' } });
  let client: Cloudflare;
  let account_id: string;
  let datasetId: string;
  const events: ThreatEventView[] = [];

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.baseURL}/accounts/${account_id}/cloudforce-one${path}`, {
      method,
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as { result: Record<string, unknown> } };
  };

  beforeAll(async () => {
    await server.start();
    client = server.client();
    account_id = server.account;
    const te = client.cloudforceOne.threatEvents;
    datasetId = (
      await result<{ uuid: string }>(te.datasets.create({ account_id, name: 'e2e intel', isPublic: false }))
    ).uuid;
    for (const o of [
      { indicator: 'Shared.EXAMPLE.' },
      { indicator: 'shared.example' },
      { indicator: 'shared.example' },
      { indicatorType: 'ipv6', indicator: '2001:0db8:0:0:0:0:0:1' },
      { indicatorType: 'hash', indicator: 'A'.repeat(64), tags: ['crime'] },
    ]) {
      events.push(await result<ThreatEventView>(te.create({ account_id, datasetId, ...makeEvent(o) })));
    }
  });
  afterAll(async () => {
    expect(await server.disposeTakingErrors()).toBe('');
  });

  it('lists, aggregates and types indicators (E54–E57)', async () => {
    const te = client.cloudforceOne.threatEvents;
    const listed = await envelope<{ indicators: Indicator[]; pagination: { cursor: string | null } }>(
      te.indicators.list({ account_id, datasetIds: [datasetId], relatedEventsLimit: -1 }),
    );
    expect(listed.success).toBe(true);
    const pairs = listed.result.indicators.map((i) => `${i.indicatorType} ${i.value}`);
    expect(new Set(pairs)).toEqual(
      new Set(['domain shared.example', 'ipv6 2001:db8::1', `sha256 ${'a'.repeat(64)}`]),
    );
    const searched = await result<{ indicators: Indicator[] }>(
      te.indicators.list({
        account_id,
        datasetIds: [datasetId],
        search: [{ field: 'value', op: 'in', value: ['2001:db8::1', 'nothing.example'] }],
      }),
    );
    expect(searched.indicators.map((i) => i.value)).toEqual(['2001:db8::1']);
    const capped = await envelope<{ indicators: Indicator[] }>(
      te.indicators.list({
        account_id,
        datasetIds: [datasetId],
        search: [{ field: 'indicatorType', op: 'equals', value: 'domain' }],
      }),
    );
    expect(capped.result.indicators.every((i) => (i.relatedEvents?.length ?? 0) <= 2)).toBe(true);
    expect(capped.result.indicators.some((i) => i.relatedEventsHasMore)).toBe(true);
    expect(capped.messages.length).toBeGreaterThan(0);

    const agg = await result<{ aggregations: { indicatorType: string; count: number }[]; total: number }>(
      te.indicators.aggregate.list({ account_id, aggregateBy: 'indicatorType', measure: 'relationships' }),
    );
    expect(agg.aggregations[0]).toEqual({ indicatorType: 'domain', count: 3 });
    expect(agg.total).toBe(5);
    const types = await result<string[]>(te.indicators.types.list({ account_id, datasetIds: [datasetId] }));
    expect(types).toEqual(['domain', 'ipv6', 'sha256']);
  });

  it('reads indicators of a dataset and of a tag (E58–E60, E69, E70)', async () => {
    const te = client.cloudforceOne.threatEvents;
    const page = await result<Paged>(te.indicators.byDataset.list(datasetId, { account_id, pageSize: 2 }));
    expect(page.pagination.pageSize).toBe(2);
    expect(page.pagination.totalPages).toBe(Math.ceil(page.pagination.totalCount / 2));
    const first = page.indicators[0] as Indicator;
    const one = await result<Indicator>(
      te.indicators.byDataset.get(first.uuid, { account_id, dataset_id: datasetId }),
    );
    expect(one.value).toBe(first.value);
    const dsTags = await result<{ value: string; uuid: string }[]>(
      te.indicators.byDataset.tags.list(datasetId, { account_id }),
    );
    expect(dsTags.map((x) => x.value)).toEqual(['crime', 'malware']);
    const crime = dsTags.find((x) => x.value === 'crime')?.uuid as string;
    const ofTag = await result<Paged>(te.tags.indicators.list(crime, { account_id }));
    expect(ofTag.indicators.map((i) => i.value)).toEqual(['a'.repeat(64)]);
    const ofTagInDs = await result<Paged>(
      te.tags.indicators.byDataset.list(crime, { account_id, dataset_id: datasetId }),
    );
    expect(ofTagInDs.pagination.totalCount).toBe(1);
  });

  it('relates events (E22 by fetch, E23 by SDK), tags them (E24/E25) and walks relationships (E20/E21)', async () => {
    const te = client.cloudforceOne.threatEvents;
    const [a, b, c] = events as [ThreatEventView, ThreatEventView, ThreatEventView];
    const related = await call('POST', `/events/relate/${a.uuid}/create`, { eventIds: [b.uuid, c.uuid] });
    expect(related.status).toBe(200);
    const got = await result<ThreatEventView>(te.get(a.uuid, { account_id }));
    expect(got.numReferences).toBe(2);
    const removed = await te.relate.delete(a.uuid, { account_id });
    expect(removed).toEqual({ success: true });
    expect((await result<ThreatEventView>(te.get(a.uuid, { account_id }))).numReferences).toBe(0);

    expect(await te.eventTags.create(a.uuid, { account_id, tags: ['botnet'] })).toEqual({ success: true });
    expect((await result<ThreatEventView>(te.get(a.uuid, { account_id }))).tags).toEqual([
      'malware',
      'botnet',
    ]);
    expect(await te.eventTags.delete(a.uuid, { account_id })).toEqual({ success: true });
    expect((await result<ThreatEventView>(te.get(a.uuid, { account_id }))).tags).toEqual([]);

    const rel = await call('POST', '/events/relationships/create', {
      parentId: a.uuid,
      childIds: [b.uuid, a.uuid],
      relationshipType: 'caused_by',
    });
    expect(rel.body.result.relationshipsCreated).toBe(1);
    const kids = await result<ThreatEventView[]>(
      te.relationships.list(a.uuid, {
        account_id,
        datasetId,
        direction: 'descendants',
        includeParent: false,
      }),
    );
    expect(kids.map((e) => e.uuid)).toEqual([b.uuid]);

    const g = await te.graph.list({
      account_id,
      seeds: [`event:${a.uuid}`],
      relationshipTypes: ['caused_by'],
    });
    expect(g.edges.map((e) => e.id)).toEqual([`event:${a.uuid}→event:${b.uuid}:caused_by`]);
    const expanded = await te.graph.list({ account_id, seeds: [`event:${b.uuid}`], expand: ['nodes'] });
    expect(expanded.nodes.find((n) => n.id === `event:${a.uuid}`)).toMatchObject({ uuid: a.uuid });
  });

  it('bulk creates events with relationships (E04)', async () => {
    const te = client.cloudforceOne.threatEvents;
    const out = await result<{
      createdEventsCount: number;
      createdRelationshipsCount: number;
      errorCount: number;
    }>(
      te.bulkCreateRelationships({
        account_id,
        datasetId,
        data: [makeEvent(), { ...makeEvent(), parentIndex: 0 }] as Parameters<
          typeof te.bulkCreateRelationships
        >[0]['data'],
      }),
    );
    expect(out).toMatchObject({ createdEventsCount: 2, createdRelationshipsCount: 1, errorCount: 0 });
  });
});
