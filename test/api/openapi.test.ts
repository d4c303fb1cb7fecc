import { describe, expect, it } from 'vitest';
import { makeEvent, makeTestApp } from '../helpers.ts';

const t = makeTestApp();
const PREFIX = '/accounts/{account_id}/cloudforce-one';

interface Operation {
  responses: Record<string, unknown>;
  security?: unknown[];
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes?: Record<string, unknown>; schemas?: Record<string, unknown> };
}

async function openapi(): Promise<Document> {
  const res = await t.app.request('/openapi.json');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type') ?? '').toMatch(/application\/json/);
  return (await res.json()) as Document;
}

/** The success status the document names for an operation. */
function successStatus(doc: Document, method: string, path: string): number {
  const op = doc.paths[`${PREFIX}${path}`]?.[method];
  if (!op) throw new Error(`no ${method} ${path} in the document`);
  const codes = Object.keys(op.responses).filter((c) => c.startsWith('2'));
  expect(codes).toHaveLength(1);
  return Number(codes[0]);
}

describe('GET /openapi.json', () => {
  it('is served without a token and lists the event and dataset paths', async () => {
    const doc = await openapi();
    expect(doc.openapi).toMatch(/^3\./);
    for (const [method, path] of [
      ['get', '/events'],
      ['post', '/events/create'],
      ['post', '/events/create/bulk'],
      ['get', '/events/{event_id}'],
      ['patch', '/events/{event_id}'],
      ['post', '/events/{event_id}'],
      ['get', '/events/dataset/{dataset_id}/events/{event_id}'],
      ['get', '/events/{event_id}/raw/{raw_id}'],
      ['patch', '/events/{event_id}/raw/{raw_id}'],
      ['get', '/events/raw/{dataset_id}/{event_id}'],
      ['get', '/events/dataset'],
      ['post', '/events/dataset/create'],
      ['get', '/events/dataset/{dataset_id}'],
      ['patch', '/events/dataset/{dataset_id}'],
      ['delete', '/events/dataset/{dataset_id}'],
    ] as const) {
      const op = doc.paths[`${PREFIX}${path}`]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op?.security, `${method} ${path}`).toEqual([{ bearerAuth: [] }]);
      for (const status of ['400', '401', '403']) expect(Object.keys(op?.responses ?? {})).toContain(status);
    }
    expect(doc.components.securitySchemes?.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('describes the bulk items with the EventCreate schema, though the route takes any item', async () => {
    const doc = await openapi();
    const schemas = doc.components.schemas ?? {};
    expect(schemas.EventCreate).toMatchObject({
      type: 'object',
      required: expect.arrayContaining(['event']),
    });
    expect(schemas.BulkCreateBody).toMatchObject({
      properties: {
        data: { type: 'array', minItems: 1, items: { $ref: '#/components/schemas/EventCreate' } },
      },
    });
  });

  it('names the status each operation answers', async () => {
    const doc = await openapi();
    const account = await t.account();
    const created = await account.call('POST', '/events/create', makeEvent());
    expect(created.status).toBe(successStatus(doc, 'post', '/events/create'));
    const ds = await account.call('POST', '/events/dataset/create', { name: 'Doc check', isPublic: false });
    expect(ds.status).toBe(successStatus(doc, 'post', '/events/dataset/create'));
    const bulk = await account.call('POST', '/events/create/bulk', {
      datasetId: ds.body.result.uuid,
      data: [makeEvent()],
    });
    expect(bulk.status).toBe(successStatus(doc, 'post', '/events/create/bulk'));
    expect(bulk.status).toBe(202);
    const listed = await account.call('GET', '/events');
    expect(listed.status).toBe(successStatus(doc, 'get', '/events'));
    const edited = await account.call('PATCH', `/events/${created.body.result.uuid}`, {
      datasetId: created.body.result.datasetId,
      tlp: 'green',
    });
    expect(edited.status).toBe(successStatus(doc, 'patch', '/events/{event_id}'));
    const deleted = await account.call('DELETE', `/events/dataset/${ds.body.result.uuid}`);
    expect(deleted.status).toBe(successStatus(doc, 'delete', '/events/dataset/{dataset_id}'));
  });
});

describe('GET /healthz', () => {
  it('answers 200 without a token', async () => {
    const res = await t.app.request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });
});

describe('every response', () => {
  it('carries a request id, taken from cf-ray when sent', async () => {
    const account = await t.account();
    const res = await t.app.request(`/client/v4/accounts/${account.id}/cloudforce-one/events`, {
      headers: { authorization: `Bearer ${account.readToken}`, 'cf-ray': 'ray-1234' },
    });
    expect(res.headers.get('x-request-id')).toBe('ray-1234');
    const other = await t.app.request('/healthz');
    expect(other.headers.get('x-request-id')).toEqual(expect.any(String));
  });
});
