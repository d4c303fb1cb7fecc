import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenWithCli, result, TestServer } from './server.ts';

const TAXII = 'application/taxii+json;version=2.1';
const COUNT = 37;

interface Obj {
  type: string;
  id: string;
  [k: string]: unknown;
}

describe('e2e: TAXII 2.1 with plain fetch', () => {
  // Small shards, so the collection spans several of them.
  const server = new TestServer({ env: { THREATDESK_SHARD_MAX_EVENTS: '10' } });
  let datasetId: string;
  let readToken: string;

  beforeAll(async () => {
    await server.start();
    const client = server.client();
    const account_id = server.account;
    const te = client.cloudforceOne.threatEvents;
    datasetId = (
      await result<{ uuid: string }>(te.datasets.create({ account_id, name: 'TAXII feed', isPublic: false }))
    ).uuid;
    await te.bulkCreate({
      account_id,
      datasetId,
      data: Array.from({ length: COUNT }, (_, i) => ({
        category: 'Phishing',
        date: new Date(Date.UTC(2025, 2, 1) + i * 3_600_000).toISOString(),
        event: `Phishing wave ${i}`,
        raw: { data: { i } },
        tlp: i % 2 ? 'amber' : 'clear',
        attacker: i % 3 ? 'Flying Yeti' : 'Sandworm',
        indicator: `login${i}.evil.example`,
        indicatorType: 'domain',
        targetIndustry: 'Agriculture',
      })),
    });
    readToken = (await createTokenWithCli(server.dataDir, account_id, { readOnly: true })).token;
  });
  afterAll(async () => {
    expect(await server.disposeTakingErrors()).toBe('');
  });

  const fetchTaxii = (path: string, token: string | null = readToken) =>
    fetch(`${server.url}${path}`, {
      headers: { accept: TAXII, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });

  it('discovers the API root, finds the dataset as a collection and pages its objects by next', async () => {
    const discovery = await fetchTaxii('/taxii2/');
    expect(discovery.status).toBe(200);
    expect(discovery.headers.get('content-type')).toBe(TAXII);
    const { default: root } = (await discovery.json()) as { default: string };
    expect(root).toBe(`${server.url}/taxii2/${server.account}/`);

    const apiRoot = await fetch(root, { headers: { accept: TAXII, authorization: `Bearer ${readToken}` } });
    expect(((await apiRoot.json()) as { versions: string[] }).versions).toEqual([TAXII]);

    const list = (await (await fetchTaxii(`/taxii2/${server.account}/collections/`)).json()) as {
      collections: { id: string; can_read: boolean; can_write: boolean }[];
    };
    const collection = list.collections.find((c) => c.id === datasetId);
    expect(collection).toMatchObject({ can_read: true, can_write: false });

    const objects: Obj[] = [];
    let url = `/taxii2/${server.account}/collections/${datasetId}/objects/?limit=10`;
    let pages = 0;
    for (;;) {
      const res = await fetchTaxii(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(TAXII);
      const body = (await res.json()) as { more: boolean; next?: string; objects?: Obj[] };
      expect(body.objects?.length ?? 0).toBeLessThanOrEqual(10);
      objects.push(...(body.objects ?? []));
      pages++;
      if (!body.more) break;
      expect(body.next).toBeTruthy();
      url = `/taxii2/${server.account}/collections/${datasetId}/objects/?limit=10&next=${encodeURIComponent(body.next ?? '')}`;
    }
    expect(pages).toBeGreaterThan(COUNT / 10);
    const reports = objects.filter((o) => o.type === 'report');
    expect(reports).toHaveLength(COUNT);
    expect(new Set(reports.map((r) => r.id)).size).toBe(COUNT);
    expect(objects.filter((o) => o.type === 'indicator')).toHaveLength(COUNT);
    expect(new Set(objects.filter((o) => o.type === 'threat-actor').map((o) => o.name))).toEqual(
      new Set(['Flying Yeti', 'Sandworm']),
    );

    // The same objects, with the same ids, on a second pull.
    const again = (await (
      await fetchTaxii(
        `/taxii2/${server.account}/collections/${datasetId}/objects/?limit=10000&match[type]=report`,
      )
    ).json()) as { objects: Obj[] };
    expect(again.objects.map((o) => o.id).sort()).toEqual(reports.map((o) => o.id).sort());
  });

  it('answers 401 without a token and 403 for another account, as TAXII errors', async () => {
    const none = await fetchTaxii(`/taxii2/${server.account}/collections/`, null);
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toBe(TAXII);
    expect(await none.json()).toMatchObject({ title: 'Unauthorized', http_status: '401' });
    const other = await fetchTaxii('/taxii2/someoneelse/collections/');
    expect(other.status).toBe(403);
  });
});
