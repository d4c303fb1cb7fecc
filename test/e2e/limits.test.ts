import Cloudflare from 'cloudflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ThreatEventView } from '../../src/domain/events/events.ts';
import { envelope, result, TestServer } from './server.ts';

type ApiError = InstanceType<typeof Cloudflare.APIError>;
type BulkData = Parameters<Cloudflare['cloudforceOne']['threatEvents']['bulkCreate']>[0]['data'];

const MAX_BODY = 100_000;
const MAX_BULK = 200;

function makeEvents(n: number, prefix: string): BulkData {
  return Array.from({ length: n }, (_, i) => ({
    category: 'Malware',
    date: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
    event: `${prefix} ${i}`,
    raw: { data: { i } },
    tlp: 'green',
  }));
}

async function rejection(p: PromiseLike<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof Cloudflare.APIError) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}

describe('e2e: limits, malformed requests and concurrent writes', () => {
  const server = new TestServer({
    env: {
      THREATDESK_MAX_BODY_BYTES: String(MAX_BODY),
      THREATDESK_MAX_BULK_EVENTS: String(MAX_BULK),
      THREATDESK_SHARD_MAX_EVENTS: '25',
    },
  });
  let client: Cloudflare;
  let account_id: string;
  let datasetId: string;

  beforeAll(async () => {
    await server.start();
    client = server.client();
    account_id = server.account;
    datasetId = (
      await result<{ uuid: string }>(
        client.cloudforceOne.threatEvents.datasets.create({ account_id, name: 'limits', isPublic: false }),
      )
    ).uuid;
  });
  afterAll(async () => {
    expect(await server.disposeTakingErrors()).toBe('');
  });

  it('answers 413 for a body over THREATDESK_MAX_BODY_BYTES, sized or streamed', async () => {
    const te = client.cloudforceOne.threatEvents;
    const err = await rejection(
      te.create({
        account_id,
        category: 'Malware',
        date: '2024-01-01T00:00:00Z',
        event: 'too big',
        raw: { data: { blob: 'x'.repeat(MAX_BODY) } },
        tlp: 'green',
      }),
    );
    expect(err.status).toBe(413);
    expect(err.errors[0]?.code).toEqual(expect.any(Number));

    // The same without a Content-Length (chunked transfer encoding).
    const chunk = new TextEncoder().encode(`{"pad":"${'y'.repeat(MAX_BODY)}"}`);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(chunk);
        controller.close();
      },
    });
    const res = await fetch(`${server.baseURL}/accounts/${account_id}/cloudforce-one/events/create`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { success: boolean }).success).toBe(false);
  });

  it('refuses a bulk request over THREATDESK_MAX_BULK_EVENTS, or without a usable dataset', async () => {
    const te = client.cloudforceOne.threatEvents;
    const tooMany = await rejection(
      te.bulkCreate({ account_id, datasetId, data: makeEvents(MAX_BULK + 1, 'over') }),
    );
    expect(tooMany).toBeInstanceOf(Cloudflare.BadRequestError);
    expect(tooMany.errors[0]?.message).toMatch(String(MAX_BULK));

    const noDataset = await rejection(
      te.bulkCreate({ account_id, data: makeEvents(1, 'x') } as Parameters<typeof te.bulkCreate>[0]),
    );
    expect(noDataset).toBeInstanceOf(Cloudflare.BadRequestError);
    expect(noDataset.errors.map((e) => e.message).join(' ')).toMatch(/datasetId/);

    const unknown = await rejection(
      te.bulkCreate({ account_id, datasetId: 'no-such-dataset', data: makeEvents(1, 'x') }),
    );
    expect(unknown).toBeInstanceOf(Cloudflare.NotFoundError);

    // Nothing of the refused requests was stored.
    const body = await envelope<unknown[]>(te.list({ account_id, datasetId: [datasetId], pageSize: 1 }));
    expect(body.result_info?.total_count).toBe(0);
  });

  it('answers malformed JSON with 400 and the envelope', async () => {
    const res = await fetch(`${server.url}/accounts/${account_id}/cloudforce-one/events/create`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      body: '{"category": ',
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { success: boolean; errors: { code: number }[]; result: unknown };
    expect(body.success).toBe(false);
    expect(body.result).toBeNull();
    expect(body.errors[0]?.code).toEqual(expect.any(Number));
  });

  it('stores every event of concurrent bulk writes to one dataset, across shard roll-overs', async () => {
    const te = client.cloudforceOne.threatEvents;
    const batches = 12;
    const perBatch = 30;
    const answers = await Promise.all(
      Array.from({ length: batches }, (_, b) =>
        result<{ createdEventsCount: number; createdEvents?: { uuid: string; shardId: string }[] }>(
          te.bulkCreate({
            account_id,
            datasetId,
            includeCreatedEvents: true,
            data: makeEvents(perBatch, `batch${b}`),
          }),
        ),
      ),
    );
    const uuids = answers.flatMap((a) => a.createdEvents?.map((e) => e.uuid) ?? []);
    expect(uuids).toHaveLength(batches * perBatch);
    expect(new Set(uuids).size).toBe(uuids.length);
    const shards = new Set(answers.flatMap((a) => a.createdEvents?.map((e) => e.shardId) ?? []));
    expect(shards.size).toBeGreaterThanOrEqual(Math.ceil((batches * perBatch) / 25));

    // Walk every event with the cursor: each one exactly once.
    const seen: string[] = [];
    let body = await envelope<ThreatEventView[]>(
      te.list({ account_id, datasetId: [datasetId], pageSize: 50 }),
    );
    expect(body.result_info?.total_count).toBe(batches * perBatch);
    seen.push(...body.result.map((e) => e.uuid));
    while (body.result_info?.cursor) {
      body = await envelope<ThreatEventView[]>(
        te.list({ account_id, cursor: body.result_info.cursor, pageSize: 50 }),
      );
      seen.push(...body.result.map((e) => e.uuid));
    }
    expect(seen).toHaveLength(uuids.length);
    expect(new Set(seen)).toEqual(new Set(uuids));
  });
});
