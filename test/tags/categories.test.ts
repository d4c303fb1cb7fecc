import { beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestAccount, type TestApp } from '../helpers.ts';

let t: TestApp;
beforeAll(() => {
  t = makeTestApp();
});

const messages = (body: { errors: { message: string }[] }) => body.errors.map((e) => e.message);

async function newCategory(a: TestAccount, body: Record<string, unknown>) {
  const res = await a.call('POST', '/events/tags/categories/create', body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.result;
}

describe('E65–E68 tag categories', () => {
  it('creates, lists with search, edits and deletes', async () => {
    const a = await t.account();
    const cat = await newCategory(a, {
      name: 'Threat Actor',
      description: 'Named intrusion sets',
      schema: [{ key: 'motive', kind: 'enum', allowedValues: ['espionage', 'financial'] }],
    });
    expect(cat).toMatchObject({
      name: 'Threat Actor',
      description: 'Named intrusion sets',
      schema: [{ key: 'motive', kind: 'enum', allowedValues: ['espionage', 'financial'] }],
    });
    await newCategory(a, { name: 'Malware' });
    const all = await a.call('GET', '/events/tags/categories');
    expect(all.status).toBe(200);
    expect(all.body.result.categories.map((c: { name: string }) => c.name)).toEqual([
      'Malware',
      'Threat Actor',
    ]);
    const found = await a.call('GET', '/events/tags/categories?search=INTRUSION');
    expect(found.body.result.categories.map((c: { name: string }) => c.name)).toEqual(['Threat Actor']);

    const renamed = await a.call('PATCH', `/events/tags/categories/${cat.uuid}`, { name: 'Actor' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.result.schema).toEqual(cat.schema);
    const replaced = await a.call('PATCH', `/events/tags/categories/${cat.uuid}`, {
      schema: [{ key: 'x', kind: 'number' }],
    });
    expect(replaced.body.result).toMatchObject({ name: 'Actor', schema: [{ key: 'x', kind: 'number' }] });

    const del = await a.call('DELETE', `/events/tags/categories/${cat.uuid}`);
    expect(del.status).toBe(200);
    expect(del.body.result).toEqual({ uuid: cat.uuid });
    expect((await a.call('DELETE', `/events/tags/categories/${cat.uuid}`)).status).toBe(404);
    expect((await a.call('PATCH', `/events/tags/categories/${cat.uuid}`, { name: 'z' })).status).toBe(404);
  });

  it('refuses a taken name (409, case-insensitive) and deleting a category in use (409)', async () => {
    const a = await t.account();
    const cat = await newCategory(a, { name: 'Campaign' });
    const dup = await a.call('POST', '/events/tags/categories/create', { name: 'campaign' });
    expect(dup.status).toBe(409);
    expect(dup.body.errors[0]?.code).toBe(1005);
    await a.call('POST', '/events/tags/create', { value: 'Op Aurora', categoryUuid: cat.uuid });
    const del = await a.call('DELETE', `/events/tags/categories/${cat.uuid}`);
    expect(del.status).toBe(409);
    expect(del.body.errors[0]?.message).toMatch(/^category_uuid: 1 tag/);
  });

  it('validates the schema on write, naming every problem', async () => {
    const a = await t.account();
    const res = await a.call('POST', '/events/tags/categories/create', {
      name: 'Broken',
      schema: [
        { key: 'a', kind: 'enum' },
        { key: 'b', kind: 'object' },
        { key: 'c', kind: 'number', numberConstraint: { min: 5, max: 1 } },
        { key: 'd', kind: 'number', format: 'url' },
        { key: 'a', kind: 'string' },
        { key: 'e', kind: 'color' },
        { key: 'f', kind: 'enum', allowedValues: ['x'], deprecatedValues: ['y'] },
        { key: 'g', kind: 'string', requried: true },
      ],
    });
    expect(res.status).toBe(400);
    const m = messages(res.body);
    expect(m).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^schema\[0\]\.allowedValues: required/),
        expect.stringMatching(/^schema\[1\]\.properties: required for kind object/),
        expect.stringMatching(/^schema\[2\]\.numberConstraint: min 5 is greater than max 1/),
        expect.stringMatching(/^schema\[3\]\.format: only for kind string/),
        expect.stringMatching(/^schema\[4\]\.key: duplicate key "a"/),
        expect.stringMatching(/^schema\[5\]\.kind:/),
        expect.stringMatching(/^schema\[6\]\.deprecatedValues: "y" is not one of allowedValues/),
        expect.stringMatching(/^schema\[7\]/),
      ]),
    );
    const nested = await a.call('POST', '/events/tags/categories/create', {
      name: 'Nested',
      schema: [{ key: 'o', kind: 'object', properties: { n: { kind: 'enum' } } }],
    });
    expect(nested.status).toBe(400);
    expect(messages(nested.body)[0]).toMatch(/^schema\[0\]\.properties\.n\.allowedValues: required/);
  });

  it('authorization: 401 without token, 403 read token on writes and another account', async () => {
    const a = await t.account();
    const b = await t.account();
    const cat = await newCategory(a, { name: 'Private' });
    const writes: [string, string, unknown][] = [
      ['POST', '/events/tags/categories/create', { name: 'x' }],
      ['PATCH', `/events/tags/categories/${cat.uuid}`, { name: 'y' }],
      ['DELETE', `/events/tags/categories/${cat.uuid}`, undefined],
    ];
    for (const [method, path, body] of [
      ...writes,
      ['GET', '/events/tags/categories', undefined] as [string, string, unknown],
    ]) {
      expect((await a.call(method, path, body, { token: null })).status).toBe(401);
      const other = await a.call(method, path, body, { token: b.writeToken });
      expect(other.status).toBe(403);
      expect(other.body.errors[0]?.code).toBe(10001);
    }
    for (const [method, path, body] of writes) {
      const read = await a.call(method, path, body, { token: a.readToken });
      expect(read.status).toBe(403);
      expect(read.body.errors[0]?.code).toBe(10001);
    }
    expect((await b.call('GET', '/events/tags/categories')).body.result.categories).toEqual([]);
    expect((await b.call('DELETE', `/events/tags/categories/${cat.uuid}`)).status).toBe(404);
  });
});

describe('tag properties against the category schema', () => {
  let a: TestAccount;
  let categoryUuid: string;
  beforeAll(async () => {
    a = await t.account();
    const cat = await newCategory(a, {
      name: 'Typed',
      schema: [
        { key: 'name', kind: 'string', required: true, maxLength: 10 },
        { key: 'score', kind: 'number', numberConstraint: { integer: true, min: 0, max: 100 } },
        {
          key: 'level',
          kind: 'enum',
          allowedValues: ['low', 'mid', 'high', 'legacy'],
          deprecatedValues: ['legacy'],
        },
        { key: 'seen', kind: 'date' },
        { key: 'site', kind: 'string', format: 'url' },
        { key: 'ttl', kind: 'string', format: 'duration' },
        { key: 'home', kind: 'string', format: 'country' },
        { key: 'day', kind: 'string', format: 'date' },
        { key: 'langs', kind: 'array', maxLength: 2, element: { kind: 'enum', allowedValues: ['en', 'ru'] } },
        {
          key: 'contact',
          kind: 'object',
          properties: { email: { kind: 'string', required: true }, phone: { kind: 'string' } },
        },
        { key: 'old', kind: 'string', deprecated: true },
        { key: 'soft', kind: 'number', enforcement: 'warn', numberConstraint: { max: 5 } },
        { key: 'free', kind: 'number', enforcement: 'off' },
        { key: 'rated', kind: 'string', annotations: { confidence: true } },
      ],
    });
    categoryUuid = cat.uuid;
  });

  const create = (properties: Record<string, unknown>, value = `tag-${Math.random()}`) =>
    a.call('POST', '/events/tags/create', { value, categoryUuid, properties });

  it('accepts a valid document, including annotated values', async () => {
    const res = await create({
      name: 'ok',
      score: 42,
      level: 'high',
      seen: '2025-06-01',
      site: 'https://example.com/report',
      ttl: 'P30D',
      home: 'DE',
      day: '2024-02-29',
      langs: ['en', 'ru'],
      contact: { email: 'soc@example.com' },
      free: 'anything goes',
      rated: { value: 'sure', confidence: 9 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.messages).toEqual([]);
    expect(res.body.result.properties.rated).toEqual({ value: 'sure', confidence: 9 });
  });

  it('refuses each rule break with 400 naming the property', async () => {
    const res = await create({
      score: 4.5,
      level: 'extreme',
      seen: 'yesterday',
      site: 'ftp://example.com',
      ttl: '30 days',
      home: 'Atlantis',
      day: '2023-02-29',
      langs: ['en', 'ru', 'fr'],
      contact: { phone: '1' },
      unknown: 1,
      rated: { value: 'x', tlp: 'red' },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]?.code).toBe(1001);
    const m = messages(res.body);
    for (const re of [
      /^properties\.name: is required/,
      /^properties\.score: must be an integer/,
      /^properties\.level: "extreme" is not one of/,
      /^properties\.seen: must be a date/,
      /^properties\.site: "ftp:\/\/example.com" is not an http\(s\) URL/,
      /^properties\.ttl: .* ISO 8601 duration/,
      /^properties\.home: .* country code/,
      /^properties\.day: "2023-02-29" is not a date/,
      /^properties\.langs: at most 2 items/,
      /^properties\.langs\[2\]: "fr" is not one of/,
      /^properties\.contact\.email: is required/,
      /^properties\.unknown: not a field/,
      /^properties\.rated\.tlp: this field takes no tlp annotation/,
    ])
      expect(m).toEqual(expect.arrayContaining([expect.stringMatching(re)]));
    expect((await create({ name: 'much too long a name' })).status).toBe(400);
    expect((await create({ name: 'n', score: 101 })).status).toBe(400);
  });

  it('warn stores the tag and answers a message; off is not checked', async () => {
    const res = await create({ name: 'w', soft: 9, free: -1 });
    expect(res.status).toBe(200);
    expect(res.body.result.properties).toEqual({ name: 'w', soft: 9, free: -1 });
    expect(res.body.messages).toEqual([
      { code: 1100, message: expect.stringMatching(/^warning: properties\.soft: must be at most 5, got 9/) },
    ]);
  });

  it('deprecated fields and values keep stored values but refuse new ones', async () => {
    // Store values that later become deprecated by writing them through a typeless tag, then linking.
    const tag = await a.call('POST', '/events/tags/create', {
      value: 'legacy-holder',
      properties: { name: 'n', old: 'kept', level: 'legacy' },
    });
    const link = await a.call('PATCH', `/events/tags/${tag.body.result.uuid}`, { categoryUuid });
    expect(link.status, JSON.stringify(link.body)).toBe(200);
    const edit = await a.call('PATCH', `/events/tags/${tag.body.result.uuid}`, { properties: { score: 1 } });
    expect(edit.status).toBe(200);
    expect(edit.body.result.properties).toEqual({ name: 'n', old: 'kept', level: 'legacy', score: 1 });
    const change = await a.call('PATCH', `/events/tags/${tag.body.result.uuid}`, {
      properties: { old: 'new' },
    });
    expect(change.status).toBe(400);
    expect(messages(change.body)[0]).toMatch(/^properties\.old: the field is deprecated/);
    const fresh = await create({ name: 'n', level: 'legacy' });
    expect(fresh.status).toBe(400);
    expect(messages(fresh.body)[0]).toMatch(/^properties\.level: the value "legacy" is deprecated/);
    const freshOld = await create({ name: 'n', old: 'x' });
    expect(freshOld.status).toBe(400);
    const away = await a.call('PATCH', `/events/tags/${tag.body.result.uuid}`, {
      properties: { level: 'low' },
    });
    expect(away.status).toBe(200);
    const back = await a.call('PATCH', `/events/tags/${tag.body.result.uuid}`, {
      properties: { level: 'legacy' },
    });
    expect(back.status).toBe(400);
  });

  it('a typeless tag takes free-form properties', async () => {
    const res = await a.call('POST', '/events/tags/create', {
      value: 'free-form',
      properties: { anything: { nested: [1, 2] } },
    });
    expect(res.status).toBe(200);
    expect(res.body.result.properties).toEqual({ anything: { nested: [1, 2] } });
  });
});
