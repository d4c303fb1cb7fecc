import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { makeTestApp, type TestAccount } from '../helpers.ts';

/** Streamed exports: many events, read by cursor as the client reads, never all at once. */
const COUNT = 20_000;
const t = makeTestApp({ shardMaxEvents: 8_000 });
let account: TestAccount;
let datasetId: string;

beforeAll(async () => {
  account = await t.account();
  datasetId = (await account.call('POST', '/events/dataset/create', { name: 'bulk export', isPublic: false }))
    .body.result.uuid;
  const data = Array.from({ length: COUNT }, (_, i) => ({
    category: 'Domain Resolution',
    date: new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString(),
    event: `Export test event ${i}`,
    raw: { data: { i } },
    tlp: i % 2 ? 'amber' : 'green',
    attacker: `Actor ${i % 50}`,
    indicator: `host${i}.evil.example`,
    indicatorType: 'domain',
    targetIndustry: 'Energy',
  }));
  const res = await account.call('POST', '/events/create/bulk', { datasetId, data });
  expect(res.body.result.createdEventsCount).toBe(COUNT);
}, 120_000);

async function read(
  path: string,
  onChunk?: (n: number) => void,
): Promise<{ text: string; chunks: number; largest: number }> {
  const res = await t.app.request(`/client/v4/accounts/${account.id}/cloudforce-one${path}`, {
    headers: { authorization: `Bearer ${account.readToken}` },
  });
  expect(res.status).toBe(200);
  const body = res.body;
  if (!body) throw new Error('no body');
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let chunks = 0;
  let largest = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks++;
    largest = Math.max(largest, value.byteLength);
    text += decoder.decode(value, { stream: true });
    onChunk?.(chunks);
  }
  return { text: text + decoder.decode(), chunks, largest };
}

describe('streamed STIX exports', () => {
  it(`streams all ${COUNT} events with export=all as one TAXII envelope`, async () => {
    const { text, chunks, largest } = await read(`/events?datasetId=${datasetId}&format=taxii&export=all`);
    const body = JSON.parse(text) as {
      more: boolean;
      next?: string;
      objects: { type: string; id: string }[];
    };
    expect(body.more).toBe(false);
    const count = (type: string) => body.objects.filter((o) => o.type === type).length;
    expect(count('report')).toBe(COUNT);
    expect(count('indicator')).toBe(COUNT);
    expect(count('relationship')).toBe(COUNT * 2);
    // Shared objects come once: 50 actors, one sector, one producer, two markings.
    expect(count('threat-actor')).toBe(50);
    expect(count('identity')).toBe(2);
    expect(count('marking-definition')).toBe(2);
    // Written piece by piece (one piece per 1,000 events), not as one body.
    expect(chunks).toBeGreaterThanOrEqual(COUNT / 1000);
    expect(largest).toBeLessThan(8 * 1024 * 1024);
  });

  it('streams a 25,000-event page as a bundle of every event', async () => {
    const { text, chunks } = await read(
      `/events?datasetId=${datasetId}&format=stix2&pageSize=25000&order=asc`,
    );
    const bundle = JSON.parse(text) as { type: string; objects: { type: string }[] };
    expect(bundle.type).toBe('bundle');
    expect(bundle.objects.filter((o) => o.type === 'report')).toHaveLength(COUNT);
    expect(chunks).toBeGreaterThanOrEqual(20);
  });

  it('ends a large TAXII page with the cursor of the next one', async () => {
    const page = await read(`/events?datasetId=${datasetId}&format=taxii&pageSize=15000`);
    const envelope = JSON.parse(page.text) as { more: boolean; next?: string; objects: { type: string }[] };
    expect(envelope.objects.filter((o) => o.type === 'report')).toHaveLength(15_000);
    expect(envelope.more).toBe(true);
    const rest = await read(
      `/events?format=taxii&pageSize=10&cursor=${encodeURIComponent(envelope.next ?? '')}`,
    );
    const second = JSON.parse(rest.text) as { more: boolean; objects: { type: string }[] };
    expect(second.objects.filter((o) => o.type === 'report')).toHaveLength(10);
  });

  it('reads the store only as fast as the client reads the answer', async () => {
    const shards = t.stores.shards;
    const spy = vi.spyOn(shards, 'getByKeys');
    const searchSpy = vi.spyOn(shards, 'search');
    const res = await t.app.request(
      `/client/v4/accounts/${account.id}/cloudforce-one/events?datasetId=${datasetId}&format=stix2&export=all`,
      { headers: { authorization: `Bearer ${account.readToken}` } },
    );
    const reader = res.body?.getReader();
    if (!reader) throw new Error('no body');
    await reader.read();
    const reads = spy.mock.calls.length + searchSpy.mock.calls.length;
    await reader.cancel();
    spy.mockRestore();
    searchSpy.mockRestore();
    // 20 steps would read the whole dataset; the first chunk needs one or two (each over 3 shards).
    expect(reads).toBeGreaterThan(0);
    expect(reads).toBeLessThanOrEqual(2 * 3);
  });

  it('keeps the retained heap flat while streaming (measured after garbage collection)', async () => {
    const gc = collector();
    const res = await t.app.request(
      `/client/v4/accounts/${account.id}/cloudforce-one/events?datasetId=${datasetId}&format=taxii&export=all`,
      { headers: { authorization: `Bearer ${account.readToken}` } },
    );
    const reader = res.body?.getReader();
    if (!reader) throw new Error('no body');
    let bytes = 0;
    let chunks = 0;
    const retained: number[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength; // read and dropped, as a client writing to disk would
      chunks++;
      if (chunks % 5 === 0) {
        gc();
        retained.push(process.memoryUsage().heapUsed);
      }
    }
    expect(bytes).toBeGreaterThan(20_000_000);
    expect(retained.length).toBeGreaterThanOrEqual(3);
    // Holding the objects would grow the heap by the size of the answer; streaming keeps it flat.
    const growth = Math.max(...retained) - (retained[0] ?? 0);
    expect(growth).toBeLessThan(bytes / 4);
  });
});

/** A full garbage collection, so heap samples show what is retained rather than garbage not yet collected. */
function collector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return gc;
}
