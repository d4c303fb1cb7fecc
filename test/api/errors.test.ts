import { describe, expect, it } from 'vitest';
import type { ApiBody } from '../helpers.ts';
import { makeEvent, makeTestApp } from '../helpers.ts';

const t = makeTestApp();

/** Every error answers the v4 envelope: one or more {code ≥ 1000, message}, no messages, null result. */
function expectError(res: { status: number; body: ApiBody }, status: number, code?: number): void {
  expect(res.status).toBe(status);
  expect(res.body.success).toBe(false);
  expect(res.body.messages).toEqual([]);
  expect(res.body.result).toBeNull();
  expect(res.body.errors.length).toBeGreaterThan(0);
  for (const e of res.body.errors) {
    expect(Object.keys(e).sort()).toEqual(['code', 'message']);
    expect(e.code).toBeGreaterThanOrEqual(1000);
    expect(typeof e.message).toBe('string');
    expect(e.message).not.toBe('');
    if (code !== undefined) expect(e.code).toBe(code);
  }
}

async function raw(path: string, init: RequestInit = {}): Promise<{ status: number; body: ApiBody }> {
  const res = await t.app.request(path, init);
  const text = await res.text();
  expect(res.headers.get('content-type') ?? '').toMatch(/application\/json/);
  return { status: res.status, body: JSON.parse(text) as ApiBody };
}

describe('malformed requests', () => {
  it('answers 400 with the malformed-JSON code for a broken body, on every JSON route', async () => {
    const account = await t.account();
    const event = await account.call('POST', '/events/create', makeEvent());
    const { uuid, rawId } = event.body.result;
    for (const [method, path] of [
      ['POST', '/events/create'],
      ['POST', '/events/create/bulk'],
      ['POST', '/events/dataset/create'],
      ['PATCH', `/events/${uuid}`],
      ['POST', `/events/${uuid}`],
      ['PATCH', `/events/${uuid}/raw/${rawId}`],
    ] as const) {
      const res = await account.call(method, path, undefined, { raw: '{"category": "Phish' });
      expectError(res, 400, 1002);
      expect(res.body.errors[0]?.message, `${method} ${path}`).toMatch(/JSON/);
    }
  });

  it('answers 415 for a body that is not sent as JSON, and 400 for a missing body', async () => {
    const account = await t.account();
    const url = `/client/v4/accounts/${account.id}/cloudforce-one/events/create`;
    for (const type of [undefined, 'text/plain', 'application/x-www-form-urlencoded']) {
      const headers: Record<string, string> = { authorization: `Bearer ${account.writeToken}` };
      if (type) headers['content-type'] = type;
      const res = await raw(url, { method: 'POST', headers, body: JSON.stringify(makeEvent()) });
      expectError(res, 415, 1010);
    }
    const charset = await raw(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${account.writeToken}`,
        'content-type': 'application/json; charset=utf-8',
      },
      body: JSON.stringify(makeEvent()),
    });
    expect(charset.status).toBe(200);
    const empty = await raw(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${account.writeToken}`, 'content-type': 'application/json' },
    });
    expectError(empty, 400);
  });

  it('answers 400 for a body that is not an object', async () => {
    const account = await t.account();
    for (const body of ['[]', 'null', '"text"', '42']) {
      const res = await account.call('POST', '/events/create', undefined, { raw: body });
      expect(res.status, body).toBe(400);
      expectError(res, 400);
    }
  });

  it('lists every wrong type with its path, not only the first', async () => {
    const account = await t.account();
    const res = await account.call('POST', '/events/create/bulk', {
      datasetId: 5,
      data: 'events',
      includeCreatedEvents: 'yes',
    });
    expectError(res, 400, 1001);
    expect(res.body.errors.map((e) => e.message.split(':')[0]).sort()).toEqual([
      'data',
      'datasetId',
      'includeCreatedEvents',
    ]);
    const nested = await account.call(
      'POST',
      '/events/create',
      makeEvent({ raw: { data: 'not an object' }, indicators: [{ indicatorType: 1, value: '' }], date: 3 }),
    );
    expectError(nested, 400, 1001);
    const paths = nested.body.errors.map((e) => e.message.split(':')[0]);
    expect(paths).toEqual(
      expect.arrayContaining(['raw.data', 'indicators[0].indicatorType', 'indicators[0].value', 'date']),
    );
  });

  it('answers 400 for unknown query parameters and bad numbers on GET /events', async () => {
    const account = await t.account();
    for (const q of [
      'colour=red',
      'pageSize=abc',
      'pageSize=25001',
      'page=-3',
      'format=stix9',
      'search.field=nope&search.op=equals&search.value=x',
      'search.field=attacker&search.op=nope&search.value=x',
      'search.field=attacker&search.op=equals',
      'search.field=attacker&search.op=equals&search.colour=x',
      'search.field=killChain&search.op=gt&search.value=many',
    ]) {
      const res = await account.call('GET', `/events?${q}`);
      expectError(res, 400);
    }
  });

  it('answers 400 for an includeDeleted that is not a boolean', async () => {
    const account = await t.account();
    expectError(await account.call('GET', '/events/dataset?includeDeleted=maybe'), 400, 1001);
  });
});

describe('body size', () => {
  it('answers 413 for a body over the limit and accepts one under it', async () => {
    const small = makeTestApp({ maxBodyBytes: 1000 });
    const account = await small.account();
    const big = await account.call('POST', '/events/create', makeEvent({ event: 'x'.repeat(2000) }));
    expectError(big, 413, 1004);
    const bulk = await account.call('POST', '/events/create/bulk', {
      datasetId: 'any',
      data: Array.from({ length: 10 }, () => makeEvent()),
    });
    expectError(bulk, 413, 1004);
    const fits = await account.call('POST', '/events/create', makeEvent());
    expect(fits.status).toBe(200);
    expect((await account.call('GET', '/events')).body.result).toHaveLength(1);
  });
});

describe('unknown routes', () => {
  it('answer 404 in the envelope, with or without a prefix', async () => {
    const account = await t.account();
    for (const path of ['/nope', '/client/v4/nope', '/client/v4/zones']) {
      expectError(await raw(path), 404, 1008);
    }
    const inside = await account.call('GET', '/no-such-thing');
    expectError(inside, 404, 1008);
    const deeper = await account.call('GET', '/events/a/b/c/d/e');
    expectError(deeper, 404);
  });

  it('answer a method the route does not take with an error envelope, not a success', async () => {
    const account = await t.account();
    for (const [method, path] of [
      ['PUT', '/events/create'],
      ['DELETE', '/events'],
      ['PUT', '/events/dataset'],
    ] as const) {
      const res = await account.call(method, path, {});
      expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expectError(res, res.status);
    }
  });
});

describe('never a 500', () => {
  it('answers odd requests with a 4xx envelope', async () => {
    const account = await t.account();
    const event = await account.call('POST', '/events/create', makeEvent());
    const { uuid } = event.body.result;
    const cases: [string, string, unknown, string?][] = [
      ['GET', `/events/${'f'.repeat(300)}`, undefined],
      ['GET', '/events/%E0%A4%A', undefined],
      ['GET', `/events/dataset/${encodeURIComponent('../../etc')}/events/${uuid}`, undefined],
      ['GET', `/events?datasetId=${encodeURIComponent('../x')}`, undefined],
      ['GET', `/events?search=${encodeURIComponent('{"field":"attacker"}')}`, undefined],
      ['GET', `/events?search=${encodeURIComponent('[1,2]')}`, undefined],
      [
        'GET',
        `/events?search=${encodeURIComponent('[{"field":"attacker","op":"in","value":[{"a":1}]}]')}`,
        undefined,
      ],
      ['GET', `/events?search=${encodeURIComponent('[{"field":"date","op":"in","value":[]}]')}`, undefined],
      ['GET', `/events?cursor=${'A'.repeat(20_000)}`, undefined],
      ['GET', '/events?search.field=event&search.op=find&search.value=*', undefined],
      ['GET', '/events?search.field=tags&search.op=find&search.value=%20', undefined],
      ['GET', '/events?datasetId=all&datasetId=analytics', undefined],
      ['POST', '/events/create', makeEvent({ date: '2025-13-45T99:99:99Z' })],
      ['POST', '/events/create', makeEvent({ tags: Array.from({ length: 101 }, (_, i) => `t${i}`) })],
      ['POST', '/events/create', makeEvent({ event: '' })],
      ['POST', '/events/create/bulk', { datasetId: '', data: [makeEvent()] }],
      ['POST', '/events/create/bulk', { datasetId: 'x', data: [null, 1, 'a'] }],
      ['PATCH', `/events/${uuid}`, { datasetId: '' }],
      ['PATCH', `/events/${uuid}`, { datasetId: 'x'.repeat(65) }],
      ['PATCH', `/events/${uuid}/raw/${'r'.repeat(300)}`, { data: {} }],
      ['POST', '/events/dataset/create', { name: 'x'.repeat(300), isPublic: false }],
    ];
    for (const [method, path, body] of cases) {
      const res = await account.call(method, path, body);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)?.slice(0, 80)}`).toBeGreaterThanOrEqual(
        400,
      );
      expect(res.status, `${method} ${path} ${JSON.stringify(body)?.slice(0, 80)}`).toBeLessThan(500);
      expectError(res, res.status);
    }
  });

  it('reports bulk items that are not objects as item errors', async () => {
    const account = await t.account();
    const ds = await account.call('POST', '/events/dataset/create', { name: 'Odd items', isPublic: false });
    const res = await account.call('POST', '/events/create/bulk', {
      datasetId: ds.body.result.uuid,
      data: [null, makeEvent(), 'text'],
    });
    expect(res.status).toBe(202);
    expect(res.body.result.createdEventsCount).toBe(1);
    expect(res.body.result.errors.map((e: { eventIndex: number }) => e.eventIndex)).toEqual([0, 2]);
    expect(res.body.result.errors[0].error).toMatch(/data\[0\]/);
  });
});
