import { describe, expect, it } from 'vitest';
import { makeTestApp, type TestAccount } from '../helpers.ts';

const t = makeTestApp();

let counter = 0;
/** A valid E27 body; override any field. */
function makeQuery(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter++;
  return {
    name: `Red TLP events ${counter}`,
    query_json: JSON.stringify({ search: [{ field: 'tlp', op: 'equals', value: 'red' }] }),
    alert_enabled: true,
    alert_rollup_enabled: false,
    rule_enabled: false,
    ...overrides,
  };
}

async function create(account: TestAccount, overrides: Record<string, unknown> = {}) {
  const res = await account.call('POST', '/events/queries/create', makeQuery(overrides));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.result;
}

describe('saved queries (E26–E31)', () => {
  it('creates, gets, lists, edits (PATCH and POST) and deletes a saved query', async () => {
    const account = await t.account();
    const created = await create(account, { name: 'Phishing', rule_scope: 'account' });
    expect(created).toEqual({
      id: expect.any(Number),
      account_id: Number.parseInt(account.id.slice(0, 12), 16),
      name: 'Phishing',
      query_json: '{"search":[{"field":"tlp","op":"equals","value":"red"}]}',
      alert_enabled: true,
      alert_rollup_enabled: false,
      rule_enabled: false,
      rule_scope: 'account',
      created_at: '2026-01-15T12:00:00.000Z',
      updated_at: '2026-01-15T12:00:00.000Z',
      user_email: 'analyst@example.com',
      custom_threat_feed_id: null,
    });
    expect(Number.isInteger(created.account_id)).toBe(true);

    const got = await account.call('GET', `/events/queries/${created.id}`);
    expect(got.status).toBe(200);
    expect(got.body.result).toEqual(created);

    const second = await create(account, { name: 'Second' });
    const listed = await account.call('GET', '/events/queries');
    expect(listed.body.result.map((q: { name: string }) => q.name)).toEqual(['Phishing', 'Second']);

    t.clock.advance(60_000);
    const patched = await account.call('PATCH', `/events/queries/${created.id}`, {
      name: 'Phishing (finance)',
      alert_rollup_enabled: true,
    });
    expect(patched.status).toBe(200);
    expect(patched.body.result).toMatchObject({
      id: created.id,
      name: 'Phishing (finance)',
      alert_rollup_enabled: true,
      alert_enabled: true,
      query_json: created.query_json,
      created_at: created.created_at,
      updated_at: '2026-01-15T12:01:00.000Z',
    });
    const posted = await account.call('POST', `/events/queries/${created.id}`, {
      query_json: JSON.stringify({ datasetId: 'all', order: 'asc', orderBy: 'createdAt', pageSize: 50 }),
    });
    expect(posted.status).toBe(200);
    expect(JSON.parse(posted.body.result.query_json)).toEqual({
      datasetId: 'all',
      order: 'asc',
      orderBy: 'createdAt',
      pageSize: 50,
    });

    const deleted = await account.call('DELETE', `/events/queries/${created.id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ success: true, result: {} });
    expect((await account.call('GET', `/events/queries/${created.id}`)).status).toBe(404);
    const after = await account.call('GET', '/events/queries');
    expect(after.body.result.map((q: { id: number }) => q.id)).toEqual([second.id]);
  });

  it('keeps a query_json naming a dataset of the account, and refuses an unknown one', async () => {
    const account = await t.account();
    const ds = await account.call('POST', '/events/dataset/create', { name: 'Feed', isPublic: false });
    const ok = await create(account, { query_json: JSON.stringify({ datasetId: [ds.body.result.uuid] }) });
    expect(JSON.parse(ok.query_json)).toEqual({ datasetId: [ds.body.result.uuid] });

    const res = await account.call(
      'POST',
      '/events/queries/create',
      makeQuery({ query_json: JSON.stringify({ datasetId: 'no-such-dataset' }) }),
    );
    expect(res.status).toBe(400);
    expect(res.body.errors[0]?.message).toMatch(/^query_json\.datasetId: .*no-such-dataset/);
  });

  it('answers 400 naming each problem of a bad query_json', async () => {
    const account = await t.account();
    const cases: [unknown, RegExp][] = [
      ['not json', /^query_json: not valid JSON/],
      ['[1,2]', /^query_json: expected a JSON object/],
      [
        JSON.stringify({ search: [{ field: 'colour', op: 'equals', value: 'x' }] }),
        /^query_json\.search\[0\]\.field: /,
      ],
      [
        JSON.stringify({ search: [{ field: 'tlp', op: 'near', value: 'x' }] }),
        /^query_json\.search\[0\]\.op: /,
      ],
      [JSON.stringify({ search: { field: 'tlp' } }), /^query_json\.search: expected a list/],
      [JSON.stringify({ order: 'sideways' }), /^query_json\.order: /],
      [JSON.stringify({ orderBy: 'colour' }), /^query_json\.orderBy: /],
      [JSON.stringify({ pageSize: 0 }), /^query_json\.pageSize: /],
      [JSON.stringify({ datasetId: 7 }), /^query_json\.datasetId: /],
      [JSON.stringify({ colour: 'red' }), /^query_json\.colour: unknown parameter/],
    ];
    for (const [queryJson, message] of cases) {
      const res = await account.call('POST', '/events/queries/create', makeQuery({ query_json: queryJson }));
      expect(res.status, String(queryJson)).toBe(400);
      expect(res.body.errors[0]?.code).toBe(1001);
      expect(res.body.errors[0]?.message).toMatch(message);
    }
    // Every problem is reported, not only the first.
    const many = await account.call(
      'POST',
      '/events/queries/create',
      makeQuery({ query_json: JSON.stringify({ order: 'up', pageSize: -1 }) }),
    );
    expect(many.body.errors.map((e: { message: string }) => e.message.split(':')[0])).toEqual([
      'query_json.order',
      'query_json.pageSize',
    ]);
    // Nothing was saved.
    expect((await account.call('GET', '/events/queries')).body.result).toEqual([]);
  });

  it('answers 400 for a missing or mistyped field, and for a bad query_json on edit', async () => {
    const account = await t.account();
    const missing = await account.call('POST', '/events/queries/create', { name: 'x', query_json: '{}' });
    expect(missing.status).toBe(400);
    const messages = missing.body.errors.map((e: { message: string }) => e.message.split(':')[0]);
    expect(messages).toEqual(
      expect.arrayContaining(['alert_enabled', 'alert_rollup_enabled', 'rule_enabled']),
    );

    const q = await create(account);
    const bad = await account.call('PATCH', `/events/queries/${q.id}`, { query_json: '{"search":5}' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]?.message).toMatch(/^query_json\.search: /);
    expect((await account.call('GET', `/events/queries/${q.id}`)).body.result.query_json).toBe(q.query_json);

    const badId = await account.call('GET', '/events/queries/abc');
    expect(badId.status).toBe(400);
    expect(badId.body.errors[0]?.message).toMatch(/query_id: must be a positive integer$/);
  });

  it('answers 409 for a name already used in the account, also on rename', async () => {
    const account = await t.account();
    await create(account, { name: 'Taken' });
    const dup = await account.call('POST', '/events/queries/create', makeQuery({ name: 'Taken' }));
    expect(dup.status).toBe(409);
    expect(dup.body.errors[0]).toEqual({ code: 1005, message: 'a saved query named "Taken" already exists' });

    const other = await create(account, { name: 'Other' });
    const rename = await account.call('PATCH', `/events/queries/${other.id}`, { name: 'Taken' });
    expect(rename.status).toBe(409);
    // Renaming to its own name is fine.
    expect((await account.call('PATCH', `/events/queries/${other.id}`, { name: 'Other' })).status).toBe(200);

    // Names are per account.
    const elsewhere = await t.account();
    await create(elsewhere, { name: 'Taken' });
  });

  it('answers 404 for an unknown id on get, edit (both verbs) and delete', async () => {
    const account = await t.account();
    for (const [method, body] of [
      ['GET', undefined],
      ['PATCH', { name: 'x' }],
      ['POST', { name: 'x' }],
      ['DELETE', undefined],
    ] as const) {
      const res = await account.call(method, '/events/queries/424242', body);
      expect(res.status, method).toBe(404);
      expect(res.body.errors[0]).toEqual({ code: 1003, message: 'saved query not found: 424242' });
    }
  });

  it('checks the token: none 401, read token 403 on writes (200 on reads), other account 403 or 404', async () => {
    const account = await t.account();
    const q = await create(account);

    const anonymous = await account.call('GET', '/events/queries', undefined, { token: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.errors[0]?.code).toBe(10000);

    const read = { token: account.readToken };
    expect((await account.call('GET', '/events/queries', undefined, read)).status).toBe(200);
    expect((await account.call('GET', `/events/queries/${q.id}`, undefined, read)).status).toBe(200);
    for (const [method, path, body] of [
      ['POST', '/events/queries/create', makeQuery()],
      ['PATCH', `/events/queries/${q.id}`, { name: 'renamed' }],
      ['POST', `/events/queries/${q.id}`, { name: 'renamed' }],
      ['DELETE', `/events/queries/${q.id}`, undefined],
    ] as const) {
      const res = await account.call(method, path, body, read);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.errors[0]?.code).toBe(10001);
    }

    // Another account's token on this account's path: 403; its own path does not see the query.
    const other = await t.account();
    const cross = await account.call('GET', `/events/queries/${q.id}`, undefined, {
      token: other.writeToken,
    });
    expect(cross.status).toBe(403);
    expect((await other.call('GET', `/events/queries/${q.id}`)).status).toBe(404);
    expect((await other.call('GET', '/events/queries')).body.result).toEqual([]);
  });
});
