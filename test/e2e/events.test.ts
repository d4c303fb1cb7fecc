import type Cloudflare from 'cloudflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ThreatEventView } from '../../src/domain/events/events.ts';
import { envelope, result, TestServer } from './server.ts';

interface RawView {
  id: string;
  accountId: number;
  created: string;
  updated: string;
  data: unknown;
  source: string;
  tlp: string;
}

interface BulkResult {
  createdEventsCount: number;
  createdTagsCount: number;
  errorCount: number;
  queuedIndicatorsCount: number;
  createBulkEventsRequestId: string;
  createdEvents?: { eventIndex: number; shardId: string; uuid: string }[];
  errors?: { error: string; eventIndex: number }[];
}

type ListParams = Parameters<Cloudflare['cloudforceOne']['threatEvents']['list']>[0];

let counter = 0;
/** A valid create body (without account_id); override any field. */
function makeEvent(overrides: Record<string, unknown> = {}) {
  counter++;
  return {
    category: 'Domain Resolution',
    date: new Date(Date.UTC(2025, 0, 1) + counter * 3_600_000).toISOString(),
    event: `An attacker registered the domain evil${counter}.example`,
    raw: { data: { n: counter } },
    tlp: 'amber',
    attacker: 'Flying Yeti',
    indicator: `evil${counter}.example`,
    indicatorType: 'domain',
    tags: ['malware'],
    ...overrides,
  };
}

describe('e2e: events through the SDK', () => {
  // Tiny shards, so lists and cursors run across several of them.
  const server = new TestServer({ env: { THREATDESK_SHARD_MAX_EVENTS: '4' } });
  let client: Cloudflare;
  let account_id: string;
  let datasetId: string;

  beforeAll(async () => {
    await server.start();
    client = server.client();
    account_id = server.account;
    datasetId = (
      await result<{ uuid: string }>(
        client.cloudforceOne.threatEvents.datasets.create({
          account_id,
          name: 'e2e events',
          isPublic: false,
        }),
      )
    ).uuid;
  });
  afterAll(async () => {
    expect(await server.disposeTakingErrors()).toBe('');
  });

  it('creates an event (E02) and answers every field; E05 and E08 read it back', async () => {
    const te = client.cloudforceOne.threatEvents;
    const body = await envelope<ThreatEventView>(
      te.create({
        account_id,
        datasetId,
        category: 'Domain Resolution',
        date: '2022-04-01T00:00:00Z',
        event: 'An attacker registered the domain domain.com',
        raw: { data: { foo: 'bar' }, source: 'feed-x', tlp: 'green' },
        tlp: 'amber',
        attacker: 'Flying Yeti',
        attackerCountry: 'CN',
        indicator: 'Domain.COM',
        indicatorType: 'domain',
        indicators: [{ indicatorType: 'ipv4', value: '192.0.2.1' }],
        insight: 'Likely registered for phishing',
        tags: ['malware', 'phishing'],
        targetCountry: 'US',
        targetIndustry: 'Agriculture',
      }),
    );
    expect(body.success).toBe(true);
    expect(body.errors).toEqual([]);
    const ev = body.result;
    expect(ev).toEqual({
      uuid: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      datasetId,
      date: '2022-04-01T00:00:00.000Z',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      attacker: 'Flying Yeti',
      attackerCountry: 'CN',
      attackerCountryAlpha3: 'CHN',
      category: 'Domain Resolution',
      event: 'An attacker registered the domain domain.com',
      hasChildren: false,
      indicator: 'domain.com',
      indicatorType: 'domain',
      indicatorTypeId: expect.any(Number),
      indicators: [
        { indicatorType: 'domain', value: 'domain.com' },
        { indicatorType: 'ipv4', value: '192.0.2.1' },
      ],
      insight: 'Likely registered for phishing',
      killChain: 0,
      mitreAttack: [],
      mitreCapec: [],
      numReferenced: 0,
      numReferences: 0,
      rawId: expect.any(String),
      referenced: [],
      referencedIds: [],
      references: [],
      referencesIds: [],
      tags: ['malware', 'phishing'],
      targetCountry: 'US',
      targetCountryAlpha3: 'USA',
      targetIndustry: 'Agriculture',
      tlp: 'amber',
    });
    expect(ev.createdAt).toBe(ev.updatedAt);
    expect(Math.abs(Date.parse(ev.createdAt) - Date.now())).toBeLessThan(60_000);

    expect(await result<ThreatEventView>(te.get(ev.uuid, { account_id }))).toEqual(ev);
    expect(
      await result<ThreatEventView>(te.datasets.events.get(ev.uuid, { account_id, dataset_id: datasetId })),
    ).toEqual(ev);

    // The raw payload: by raw id (E16) and by dataset (E19).
    const raw = await result<RawView>(te.raw.get(ev.rawId, { account_id, event_id: ev.uuid }));
    expect(raw).toMatchObject({ id: ev.rawId, data: { foo: 'bar' }, source: 'feed-x', tlp: 'green' });
    expect(typeof raw.accountId).toBe('number');
    expect(await result<RawView>(te.datasets.raw(ev.uuid, { account_id, dataset_id: datasetId }))).toEqual(
      raw,
    );
  });

  it('edits an event (E06) and its raw payload (E17)', async () => {
    const te = client.cloudforceOne.threatEvents;
    const ev = await result<ThreatEventView>(te.create({ account_id, datasetId, ...makeEvent() }));

    const edited = await result<ThreatEventView>(
      te.edit(ev.uuid, {
        account_id,
        datasetId,
        attacker: 'Sandworm',
        targetCountry: 'DE',
        insight: 'Reattributed',
        tlp: 'RED',
      }),
    );
    expect(edited).toMatchObject({
      uuid: ev.uuid,
      attacker: 'Sandworm',
      targetCountry: 'DE',
      targetCountryAlpha3: 'DEU',
      insight: 'Reattributed',
      tlp: 'red',
      // untouched fields stay
      category: ev.category,
      event: ev.event,
      date: ev.date,
      tags: ev.tags,
      createdAt: ev.createdAt,
    });
    expect(Date.parse(edited.updatedAt)).toBeGreaterThanOrEqual(Date.parse(ev.updatedAt));
    expect(await result<ThreatEventView>(te.get(ev.uuid, { account_id }))).toEqual(edited);

    // attacker: null clears it (the SDK keeps explicit nulls in the body).
    const cleared = await result<ThreatEventView>(
      te.edit(ev.uuid, { account_id, datasetId, attacker: null }),
    );
    expect(cleared.attacker).toBe('');

    const rawEdit = await result<{ id: string; data: unknown }>(
      te.raw.edit(ev.rawId, { account_id, event_id: ev.uuid, data: { edited: true }, source: 'analyst' }),
    );
    expect(rawEdit).toEqual({ id: ev.rawId, data: { edited: true } });
    expect(await result<RawView>(te.raw.get(ev.rawId, { account_id, event_id: ev.uuid }))).toMatchObject({
      id: ev.rawId,
      data: { edited: true },
      source: 'analyst',
    });

    await expect(
      te.raw.get('00000000-0000-4000-8000-000000000000', { account_id, event_id: ev.uuid }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it('bulk-creates (E03): 202, invalid items reported by index, valid ones stored', async () => {
    const te = client.cloudforceOne.threatEvents;
    const items = [
      makeEvent({ attacker: 'Bulk One' }),
      makeEvent({ date: 'not a date' }),
      makeEvent({ attacker: 'Bulk Two' }),
      { category: 'Domain Resolution', raw: { data: null }, tlp: 'amber' }, // no date, no event
      makeEvent({ attacker: 'Bulk Three' }),
    ];
    const { data, response } = await te
      .bulkCreate({
        account_id,
        datasetId,
        includeCreatedEvents: true,
        data: items as Parameters<typeof te.bulkCreate>[0]['data'],
      })
      .withResponse();
    expect(response.status).toBe(202);
    const body = data as unknown as { success: boolean; result: BulkResult };
    expect(body.success).toBe(true);
    const bulk = body.result;
    expect(bulk.createdEventsCount).toBe(3);
    expect(bulk.errorCount).toBe(2);
    expect(bulk.createBulkEventsRequestId).toEqual(expect.any(String));
    expect(bulk.errors?.map((e) => e.eventIndex)).toEqual([1, 3]);
    expect(bulk.errors?.[0]?.error).toMatch(/date/);
    expect(bulk.errors?.[1]?.error).toMatch(/data\[3\]/);
    expect(bulk.createdEvents?.map((e) => e.eventIndex)).toEqual([0, 2, 4]);

    const attackers = [];
    for (const created of bulk.createdEvents ?? []) {
      expect(created.shardId).toEqual(expect.any(String));
      const ev = await result<ThreatEventView>(
        te.datasets.events.get(created.uuid, { account_id, dataset_id: datasetId }),
      );
      attackers.push(ev.attacker);
    }
    expect(attackers).toEqual(['Bulk One', 'Bulk Two', 'Bulk Three']);

    // Without includeCreatedEvents the uuids are not listed.
    const plain = await result<BulkResult>(
      te.bulkCreate({ account_id, datasetId, data: [makeEvent({ attacker: 'Bulk Four' })] }),
    );
    expect(plain.createdEventsCount).toBe(1);
    expect(plain.createdEvents).toBeUndefined();
    expect(plain.errors).toBeUndefined();
  });

  it('searches (E01) with attacker equals + tags in, pages by page/pageSize and by cursor', async () => {
    const te = client.cloudforceOne.threatEvents;
    const ds = await result<{ uuid: string }>(
      te.datasets.create({ account_id, name: 'e2e search', isPublic: false }),
    );
    const attackers = ['APT Alpha', 'APT Beta'];
    const tagSets = [['ransomware'], ['phishing', 'c2'], ['c2'], ['benign']];
    const data = [];
    for (let i = 0; i < 48; i++) {
      data.push(
        makeEvent({
          attacker: attackers[i % attackers.length],
          tags: tagSets[i % tagSets.length],
          date: new Date(Date.UTC(2024, 0, 1) + i * 86_400_000).toISOString(),
        }),
      );
    }
    const bulk = await result<BulkResult>(
      te.bulkCreate({
        account_id,
        datasetId: ds.uuid,
        includeCreatedEvents: true,
        data: data as Parameters<typeof te.bulkCreate>[0]['data'],
      }),
    );
    expect(bulk.createdEventsCount).toBe(48);
    // Several shards hold the dataset (THREATDESK_SHARD_MAX_EVENTS=4).
    expect(new Set(bulk.createdEvents?.map((e) => e.shardId)).size).toBeGreaterThan(1);

    // attacker = APT Alpha → even indices; tags in [ransomware, c2] → i%4 in {0,1,2}: so i%4 in {0,2}.
    const expected = data
      .map((d, i) => ({ d, uuid: bulk.createdEvents?.[i]?.uuid ?? '' }))
      .filter(({ d }) => d.attacker === 'APT Alpha' && d.tags.some((t) => ['ransomware', 'c2'].includes(t)))
      .sort((a, b) => Date.parse(b.d.date) - Date.parse(a.d.date))
      .map((x) => x.uuid);
    expect(expected.length).toBe(24);

    const query: ListParams = {
      account_id,
      datasetId: [ds.uuid],
      search: [
        { field: 'attacker', op: 'equals', value: 'APT Alpha' },
        { field: 'tags', op: 'in', value: ['ransomware', 'c2'] },
      ],
    };

    // Offset pages.
    const byPage: string[] = [];
    for (let page = 1; page <= 5; page++) {
      const body = await envelope<ThreatEventView[]>(te.list({ ...query, page, pageSize: 7 }));
      expect(body.result_info).toMatchObject({
        page,
        per_page: 7,
        count: body.result.length,
        total_count: 24,
        total_pages: 4,
      });
      for (const ev of body.result) {
        expect(ev.attacker).toBe('APT Alpha');
        expect(ev.datasetId).toBe(ds.uuid);
        expect(ev.tags.some((t) => t === 'ransomware' || t === 'c2')).toBe(true);
      }
      byPage.push(...body.result.map((e) => e.uuid));
    }
    expect(byPage).toEqual(expected);

    // Cursor pages: the first call carries the question, then only cursor and pageSize.
    const byCursor: string[] = [];
    let body = await envelope<ThreatEventView[]>(te.list({ ...query, pageSize: 5 }));
    byCursor.push(...body.result.map((e) => e.uuid));
    let calls = 1;
    while (body.result_info?.cursor) {
      expect(calls++).toBeLessThan(20);
      body = await envelope<ThreatEventView[]>(
        te.list({ account_id, cursor: body.result_info.cursor, pageSize: 5 }),
      );
      expect(body.result.length).toBeGreaterThan(0);
      byCursor.push(...body.result.map((e) => e.uuid));
    }
    expect(byCursor).toEqual(expected);

    // Ascending order over the same question reverses it.
    const asc = await result<ThreatEventView[]>(te.list({ ...query, order: 'asc', pageSize: 100 }));
    expect(asc.map((e) => e.uuid)).toEqual([...expected].reverse());
  });

  it('lists over several datasets and scopes; condition key order and one-element "in" as the SDK sends them', async () => {
    const te = client.cloudforceOne.threatEvents;
    const a = await result<{ uuid: string }>(
      te.datasets.create({ account_id, name: 'scope A', isPublic: false }),
    );
    const b = await result<{ uuid: string }>(
      te.datasets.create({ account_id, name: 'scope B', isPublic: false }),
    );
    const inA = await result<ThreatEventView>(
      te.create({
        account_id,
        datasetId: a.uuid,
        ...makeEvent({ attacker: 'Scope Actor', tags: ['only-a'] }),
      }),
    );
    const inB = await result<ThreatEventView>(
      te.create({
        account_id,
        datasetId: b.uuid,
        ...makeEvent({ attacker: 'Scope Actor', tags: ['only-b'] }),
      }),
    );
    const uuids = (list: ThreatEventView[]) => list.map((e) => e.uuid).sort();

    // { op, field, value } instead of { field, op, value }: the SDK keeps the caller's key order.
    const byActor = [{ op: 'equals', field: 'attacker', value: 'Scope Actor' }] as ListParams['search'];
    expect(
      uuids(
        await result<ThreatEventView[]>(
          te.list({ account_id, datasetId: [a.uuid, b.uuid], search: byActor }),
        ),
      ),
    ).toEqual([inA.uuid, inB.uuid].sort());
    expect(
      uuids(await result<ThreatEventView[]>(te.list({ account_id, datasetId: ['all'], search: byActor }))),
    ).toEqual([inA.uuid, inB.uuid].sort());
    // The default dataset holds neither.
    expect(await result<ThreatEventView[]>(te.list({ account_id, search: byActor }))).toEqual([]);

    // A one-element "in" list goes over the wire exactly like a scalar value.
    const onlyA = await result<ThreatEventView[]>(
      te.list({
        account_id,
        datasetId: ['all'],
        search: [
          { field: 'attacker', op: 'equals', value: 'Scope Actor' },
          { field: 'tags', op: 'in', value: ['only-a'] },
        ],
      }),
    );
    expect(onlyA.map((e) => e.uuid)).toEqual([inA.uuid]);
    expect(onlyA[0]?.datasetId).toBe(a.uuid);
  });

  it('answers the same API without the /client/v4 prefix (curl style)', async () => {
    const headers = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
    const base = `${server.url}/accounts/${account_id}/cloudforce-one`;
    const created = await fetch(`${base}/events/create`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ datasetId, ...makeEvent({ attacker: 'Curl Attacker' }) }),
    });
    expect(created.status).toBe(200);
    expect(created.headers.get('content-type')).toMatch(/application\/json/);
    const ev = ((await created.json()) as { result: ThreatEventView }).result;

    const search = encodeURIComponent(
      JSON.stringify([{ field: 'attacker', op: 'equals', value: 'Curl Attacker' }]),
    );
    const listed = await fetch(`${base}/events?datasetId=${datasetId}&search=${search}`, { headers });
    expect(listed.status).toBe(200);
    const body = (await listed.json()) as { success: boolean; result: ThreatEventView[] };
    expect(body.success).toBe(true);
    expect(body.result.map((e) => e.uuid)).toEqual([ev.uuid]);

    const got = await fetch(`${base}/events/dataset/${datasetId}/events/${ev.uuid}`, { headers });
    expect(((await got.json()) as { result: ThreatEventView }).result).toEqual(ev);
  });
});
