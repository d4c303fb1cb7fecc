import { beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, makeTestApp, type TestAccount, type TestApp } from '../helpers.ts';

let t: TestApp;
beforeAll(() => {
  t = makeTestApp();
});

async function newTag(a: TestAccount, body: Record<string, unknown>) {
  const res = await a.call('POST', '/events/tags/create', body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.result;
}

describe('E61 POST /events/tags/create', () => {
  it('creates a tag with plain and annotated fields', async () => {
    const a = await t.account();
    const res = await a.call('POST', '/events/tags/create', {
      value: 'APT28',
      motive: 'Espionage',
      actorCategory: { value: 'nation-state', confidence: 8, tlp: 'green' },
      originCountryISO: 'ru',
      priority: 2,
      aliases: ['Fancy Bear', { value: 'Sofacy', confidence: 7 }],
      internalAliases: [{ value: 'Bear-1', tlp: 'red' }],
      externalReferences: [{ url: 'https://attack.mitre.org/groups/G0007/', description: 'ATT&CK' }],
      confidence: 9,
      dateOfDiscovery: '2014-10-28',
      description: 'Russian GRU unit',
      properties: { sector: 'government' },
      tlp: 'amber',
    });
    expect(res.status).toBe(200);
    expect(res.body.success).toBe(true);
    const tag = res.body.result;
    expect(tag).toMatchObject({
      value: 'APT28',
      motive: 'Espionage',
      motive_annotated: { value: 'Espionage' },
      actorCategory: 'nation-state',
      actorCategory_annotated: { value: 'nation-state', confidence: 8, tlp: 'green' },
      originCountryISO: 'RU',
      priority: 2,
      aliases: [{ value: 'Fancy Bear' }, { value: 'Sofacy', confidence: 7 }],
      internalAliases: [{ value: 'Bear-1', tlp: 'red' }],
      externalReferences: [{ url: 'https://attack.mitre.org/groups/G0007/', description: 'ATT&CK' }],
      externalReferences_annotated: [{ value: 'https://attack.mitre.org/groups/G0007/' }],
      confidence: 9,
      dateOfDiscovery: '2014-10-28',
      description: 'Russian GRU unit',
      properties: { sector: 'government' },
      tlp: 'amber',
      version: 1,
    });
    expect(tag.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(tag.createdAt).toBe('2026-01-15T12:00:00.000Z');
  });

  it('answers properties null when there are none', async () => {
    const a = await t.account();
    const tag = await newTag(a, { value: 'bare' });
    expect(tag.properties).toBeNull();
    expect(tag.tlp).toBeNull();
  });

  it('refuses a value that exists (409), also one created by event ingest', async () => {
    const a = await t.account();
    await newTag(a, { value: 'dup' });
    const again = await a.call('POST', '/events/tags/create', { value: 'dup' });
    expect(again.status).toBe(409);
    expect(again.body.errors[0]?.code).toBe(1005);
    expect(again.body.errors[0]?.message).toMatch(/^value:/);
    expect((await a.call('POST', '/events/create', makeEvent({ tags: ['from-ingest'] }))).status).toBe(200);
    expect((await a.call('POST', '/events/tags/create', { value: 'from-ingest' })).status).toBe(409);
    const listed = await a.call('GET', '/events/tags?search=from-ingest');
    expect(listed.body.result.tags).toEqual([
      expect.objectContaining({ value: 'from-ingest', properties: null, tlp: null, version: 1 }),
    ]);
  });

  it('validates every field and names each', async () => {
    const a = await t.account();
    const res = await a.call('POST', '/events/tags/create', {
      value: 'bad',
      confidence: 11,
      tlp: 'blue',
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]?.code).toBe(1001);
    const text = res.body.errors.map((e: { message: string }) => e.message).join('\n');
    expect(text).toMatch(/confidence/);
    expect(text).toMatch(/tlp/);
    const dates = await a.call('POST', '/events/tags/create', {
      value: 'bad2',
      dateOfDiscovery: '2024-02-30',
      originCountryISO: 'XX',
      externalReferences: [{ url: 'not a url' }],
    });
    expect(dates.status).toBe(400);
    const msgs = dates.body.errors.map((e: { message: string }) => e.message);
    expect(msgs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^dateOfDiscovery:/),
        expect.stringMatching(/^originCountryISO:/),
        expect.stringMatching(/^externalReferences\[0\]\.url:/),
      ]),
    );
    expect((await a.call('POST', '/events/tags/create', {})).status).toBe(400);
    expect((await a.call('POST', '/events/tags/create', { value: '   ' })).status).toBe(400);
  });

  it('refuses an unknown categoryUuid with 400 naming the field', async () => {
    const a = await t.account();
    const res = await a.call('POST', '/events/tags/create', { value: 'x', categoryUuid: 'nope' });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]?.message).toMatch(/^categoryUuid:/);
  });
});

describe('E63 PATCH /events/tags/{tag_uuid}', () => {
  it('keeps omitted fields, merges properties per key, deletes null keys, bumps the version', async () => {
    const a = await t.account();
    const tag = await newTag(a, {
      value: 'Turla',
      confidence: 6,
      dateOfDiscovery: '2008-01-01',
      tlp: 'green',
      properties: { a: 1, b: 'two', c: true },
    });
    const res = await a.call('PATCH', `/events/tags/${tag.uuid}`, {
      description: 'Snake',
      properties: { b: null, d: 'four' },
    });
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({
      value: 'Turla',
      confidence: 6,
      dateOfDiscovery: '2008-01-01',
      tlp: 'green',
      description: 'Snake',
      properties: { a: 1, c: true, d: 'four' },
      version: 2,
    });
    expect(res.body.result.properties).not.toHaveProperty('b');
    const again = await a.call('PATCH', `/events/tags/${tag.uuid}`, {
      value: 'Turla Group',
      confidence: null,
    });
    expect(again.body.result.version).toBe(3);
    expect(again.body.result.value).toBe('Turla Group');
    expect(again.body.result).not.toHaveProperty('confidence');
  });

  it('refuses tlp null, a taken value (409), an unknown tag (404)', async () => {
    const a = await t.account();
    const tag = await newTag(a, { value: 'one', tlp: 'amber' });
    await newTag(a, { value: 'two' });
    const tlp = await a.call('PATCH', `/events/tags/${tag.uuid}`, { tlp: null });
    expect(tlp.status).toBe(400);
    expect(tlp.body.errors[0]?.message).toMatch(/^tlp:/);
    const taken = await a.call('PATCH', `/events/tags/${tag.uuid}`, { value: 'two' });
    expect(taken.status).toBe(409);
    const missing = await a.call('PATCH', '/events/tags/00000000-0000-4000-8000-000000000000', {
      value: 'z',
    });
    expect(missing.status).toBe(404);
    expect(missing.body.errors[0]?.code).toBe(1003);
  });

  it('re-validates properties when the category changes, and null unlinks', async () => {
    const a = await t.account();
    const cat = await a.call('POST', '/events/tags/categories/create', {
      name: 'Malware family',
      schema: [{ key: 'family', kind: 'string', required: true }],
    });
    const tag = await newTag(a, { value: 'emotet', properties: { other: 1 } });
    const bad = await a.call('PATCH', `/events/tags/${tag.uuid}`, { categoryUuid: cat.body.result.uuid });
    expect(bad.status).toBe(400);
    const msgs = bad.body.errors.map((e: { message: string }) => e.message);
    expect(msgs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^properties\.other: not a field/),
        expect.stringMatching(/^properties\.family: is required/),
      ]),
    );
    const good = await a.call('PATCH', `/events/tags/${tag.uuid}`, {
      categoryUuid: cat.body.result.uuid,
      properties: { other: null, family: 'Emotet' },
    });
    expect(good.status).toBe(200);
    expect(good.body.result).toMatchObject({
      categoryUuid: cat.body.result.uuid,
      categoryName: 'Malware family',
      properties: { family: 'Emotet' },
    });
    const unlinked = await a.call('PATCH', `/events/tags/${tag.uuid}`, { categoryUuid: null });
    expect(unlinked.status).toBe(200);
    expect(unlinked.body.result).not.toHaveProperty('categoryUuid');
  });
});

describe('E64 DELETE /events/tags/{tag_uuid}', () => {
  it('deletes, then 404', async () => {
    const a = await t.account();
    const tag = await newTag(a, { value: 'gone' });
    const res = await a.call('DELETE', `/events/tags/${tag.uuid}`);
    expect(res.status).toBe(200);
    expect(res.body.result).toEqual({ uuid: tag.uuid });
    expect((await a.call('DELETE', `/events/tags/${tag.uuid}`)).status).toBe(404);
    const list = await a.call('GET', '/events/tags');
    expect(list.body.result.tags).toEqual([]);
  });
});

describe('E62 GET /events/tags', () => {
  let a: TestAccount;
  const uuids: Record<string, string> = {};
  beforeAll(async () => {
    a = await t.account();
    const cat = await a.call('POST', '/events/tags/categories/create', {
      name: 'Actor',
      schema: [
        { key: 'sector', kind: 'string', annotations: { tlp: true, confidence: true } },
        { key: 'score', kind: 'number' },
        { key: 'langs', kind: 'array' },
      ],
    });
    const categoryUuid = cat.body.result.uuid;
    const bodies = [
      {
        value: 'APT28',
        categoryUuid,
        confidence: 9,
        motive: 'Espionage',
        originCountryISO: 'RU',
        aliases: ['Fancy Bear'],
        tlp: 'amber',
        properties: {
          sector: { value: 'Government', tlp: 'green', confidence: 8 },
          score: 90,
          langs: ['ru'],
        },
      },
      {
        value: 'APT29',
        categoryUuid,
        confidence: 7,
        motive: 'Espionage',
        originCountryISO: 'RU',
        aliases: ['Cozy Bear'],
        tlp: 'green',
        properties: { sector: 'Diplomacy', score: 70, langs: ['ru', 'en'] },
      },
      { value: 'Lazarus', confidence: 8, motive: 'Financial gain', originCountryISO: 'KP', tlp: 'red' },
      { value: 'phishing', properties: { note: 'Credential harvesting kits' } },
    ];
    for (const b of bodies) uuids[b.value] = (await newTag(a, b)).uuid;
  });

  const list = async (query: string) => {
    const res = await a.call('GET', `/events/tags${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.result as { tags: { value: string }[]; pagination: Record<string, number> };
  };
  const values = async (query: string) => (await list(query)).tags.map((x) => x.value);

  it('lists all, ordered by value, with pagination', async () => {
    const r = await list('');
    expect(r.tags.map((x) => x.value)).toEqual(['APT28', 'APT29', 'Lazarus', 'phishing']);
    expect(r.pagination).toEqual({ page: 1, pageSize: 50, totalCount: 4, totalPages: 1 });
    const p2 = await list('?page=2&pageSize=3');
    expect(p2.tags.map((x) => x.value)).toEqual(['phishing']);
    expect(p2.pagination).toEqual({ page: 2, pageSize: 3, totalCount: 4, totalPages: 2 });
  });

  it('search is a case-insensitive substring of the value and the properties', async () => {
    expect(await values('?search=apt')).toEqual(['APT28', 'APT29']);
    expect(await values('?search=CREDENTIAL')).toEqual(['phishing']);
    expect(await values('?search=diplomacy')).toEqual(['APT29']);
  });

  it('filters by categoryUuid', async () => {
    const tag = await a.call(
      'GET',
      `/events/tags?filters=${encodeURIComponent(JSON.stringify([{ field: 'uuid', op: 'equals', value: uuids.APT28 }]))}`,
    );
    const categoryUuid = tag.body.result.tags[0].categoryUuid;
    expect(await values(`?categoryUuid=${categoryUuid}`)).toEqual(['APT28', 'APT29']);
  });

  it('filters in the SDK dotted form and as JSON', async () => {
    expect(await values('?filters.field=confidence&filters.op=gte&filters.value=8')).toEqual([
      'APT28',
      'Lazarus',
    ]);
    expect(await values('?filters.field=motive&filters.op=equals&filters.value=Espionage')).toEqual([
      'APT28',
      'APT29',
    ]);
    expect(
      await values(
        '?filters.field=originCountryISO&filters.op=equals&filters.value=RU&filters.field=confidence&filters.op=lt&filters.value=8',
      ),
    ).toEqual(['APT29']);
    const json = encodeURIComponent(JSON.stringify([{ field: 'aliases', op: 'contains', value: 'bear' }]));
    expect(await values(`?filters=${json}`)).toEqual(['APT28', 'APT29']);
    expect(await values('?filters.field=tlp&filters.op=in&filters.value=red&filters.value=green')).toEqual([
      'APT29',
      'Lazarus',
    ]);
    expect(await values('?filters.field=categoryName&filters.op=equals&filters.value=Actor')).toEqual([
      'APT28',
      'APT29',
    ]);
    expect(await values('?filters.field=value&filters.op=not&filters.value=APT28')).toEqual([
      'APT29',
      'Lazarus',
      'phishing',
    ]);
  });

  it('filters on properties: raw and annotated values, array elements, annotation sub-fields', async () => {
    expect(
      await values('?filters.field=properties.sector&filters.op=equals&filters.value=Government'),
    ).toEqual(['APT28']);
    expect(await values('?filters.field=properties.sector&filters.op=startsWith&filters.value=dip')).toEqual([
      'APT29',
    ]);
    expect(await values('?filters.field=properties.score&filters.op=gt&filters.value=80')).toEqual(['APT28']);
    expect(await values('?filters.field=properties.score&filters.op=equals&filters.value=70')).toEqual([
      'APT29',
    ]);
    expect(await values('?filters.field=properties.langs&filters.op=equals&filters.value=en')).toEqual([
      'APT29',
    ]);
    expect(
      await values('?filters.field=properties.sector.tlp&filters.op=equals&filters.value=green'),
    ).toEqual(['APT28']);
    expect(
      await values('?filters.field=properties.sector.confidence&filters.op=gte&filters.value=8'),
    ).toEqual(['APT28']);
  });

  it('uuid takes only equals and in, compared lower-case', async () => {
    const upper = (uuids.Lazarus ?? '').toUpperCase();
    expect(await values(`?filters.field=uuid&filters.op=equals&filters.value=${upper}`)).toEqual(['Lazarus']);
    const bad = await a.call('GET', `/events/tags?filters.field=uuid&filters.op=contains&filters.value=a`);
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]?.message).toMatch(/^filters\[0\]\.op: uuid accepts only equals and in/);
  });

  it('refuses unknown fields and ops, non-numbers on numeric fields, more than 10 filters', async () => {
    const field = await a.call('GET', '/events/tags?filters.field=color&filters.op=equals&filters.value=x');
    expect(field.status).toBe(400);
    expect(field.body.errors[0]?.message).toMatch(/^filters\[0\]\.field:/);
    const op = await a.call('GET', '/events/tags?filters.field=value&filters.op=near&filters.value=x');
    expect(op.status).toBe(400);
    expect(op.body.errors[0]?.message).toMatch(/^filters\[0\]\.op:/);
    const num = await a.call('GET', '/events/tags?filters.field=confidence&filters.op=gt&filters.value=high');
    expect(num.status).toBe(400);
    expect(num.body.errors[0]?.message).toMatch(/^filters\[0\]\.value:/);
    const many = JSON.stringify(
      Array.from({ length: 11 }, () => ({ field: 'value', op: 'equals', value: 'x' })),
    );
    const tooMany = await a.call('GET', `/events/tags?filters=${encodeURIComponent(many)}`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors[0]?.message).toMatch(/^filters: at most 10/);
    expect((await a.call('GET', '/events/tags?pageSize=0')).status).toBe(400);
  });
});

describe('tags: authorization and account scope', () => {
  it('401 without a token, 403 for a read token on writes and for another account', async () => {
    const a = await t.account();
    const b = await t.account();
    const tag = await newTag(a, { value: 'secret-actor' });
    const writes: [string, string, unknown][] = [
      ['POST', '/events/tags/create', { value: 'x' }],
      ['PATCH', `/events/tags/${tag.uuid}`, { value: 'y' }],
      ['DELETE', `/events/tags/${tag.uuid}`, undefined],
    ];
    for (const [method, path, body] of [
      ...writes,
      ['GET', '/events/tags', undefined] as [string, string, unknown],
    ]) {
      const none = await a.call(method, path, body, { token: null });
      expect(none.status, `${method} ${path}`).toBe(401);
      expect(none.body.errors[0]?.code).toBe(10000);
      const other = await a.call(method, path, body, { token: b.writeToken });
      expect(other.status, `${method} ${path}`).toBe(403);
      expect(other.body.errors[0]?.code).toBe(10001);
    }
    for (const [method, path, body] of writes) {
      const read = await a.call(method, path, body, { token: a.readToken });
      expect(read.status, `${method} ${path}`).toBe(403);
      expect(read.body.errors[0]?.code).toBe(10001);
    }
    expect((await a.call('GET', '/events/tags', undefined, { token: a.readToken })).status).toBe(200);
    // Account b sees none of a's tags and cannot reach them by uuid.
    expect((await b.call('GET', '/events/tags')).body.result.tags).toEqual([]);
    expect((await b.call('PATCH', `/events/tags/${tag.uuid}`, { value: 'z' })).status).toBe(404);
    expect((await b.call('DELETE', `/events/tags/${tag.uuid}`)).status).toBe(404);
    expect((await b.call('POST', '/events/tags/create', { value: 'secret-actor' })).status).toBe(200);
  });
});
