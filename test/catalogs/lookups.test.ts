import { beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, makeTestApp, type TestAccount, type TestApp } from '../helpers.ts';

let t: TestApp;
let a: TestAccount;
let other: string;
beforeAll(async () => {
  // Small shards, so every list reads several of them.
  t = makeTestApp({ shardMaxEvents: 2 });
  a = await t.account();
  const defaults = [
    makeEvent({ attacker: 'APT28', targetIndustry: 'Government' }),
    makeEvent({ attacker: 'Lazarus Group', targetIndustry: 'Finance' }),
    makeEvent({ attacker: 'APT28', targetIndustry: 'Energy' }),
    makeEvent({ attacker: '', targetIndustry: '' }),
    makeEvent({ attacker: 'Cozy Bear', targetIndustry: 'Government' }),
  ];
  for (const e of defaults) expect((await a.call('POST', '/events/create', e)).status).toBe(200);
  other = (await a.call('POST', '/events/dataset/create', { name: 'other', isPublic: false })).body.result
    .uuid;
  for (const e of [
    makeEvent({ datasetId: other, attacker: 'Sandworm', targetIndustry: 'Telecoms' }),
    makeEvent({ datasetId: other, attacker: 'APT28', targetIndustry: 'Energy' }),
  ])
    expect((await a.call('POST', '/events/create', e)).status).toBe(200);
});

describe('E43 GET /events/attackers', () => {
  it('distinct, sorted, default dataset when absent', async () => {
    const res = await a.call('GET', '/events/attackers', undefined, { token: a.readToken });
    expect(res.status).toBe(200);
    expect(res.body.result).toEqual(['APT28', 'Cozy Bear', 'Lazarus Group']);
  });
  it('over the named datasets, or all', async () => {
    expect((await a.call('GET', `/events/attackers?datasetIds=${other}`)).body.result).toEqual([
      'APT28',
      'Sandworm',
    ]);
    expect((await a.call('GET', '/events/attackers?datasetIds=all')).body.result).toEqual([
      'APT28',
      'Cozy Bear',
      'Lazarus Group',
      'Sandworm',
    ]);
  });
  it('404 for an unknown dataset, 400 for a scope mixed with ids', async () => {
    const missing = await a.call('GET', '/events/attackers?datasetIds=nope');
    expect(missing.status).toBe(404);
    expect(missing.body.errors[0]?.code).toBe(1003);
    const mixed = await a.call('GET', `/events/attackers?datasetIds=all,${other}`);
    expect(mixed.status).toBe(400);
    expect(mixed.body.errors[0]?.message).toMatch(/^datasetIds:/);
  });
});

describe('E45 / E47 target industries', () => {
  it('E45: distinct, sorted, default dataset or the named ones', async () => {
    expect((await a.call('GET', '/events/targetIndustries')).body.result).toEqual([
      'Energy',
      'Finance',
      'Government',
    ]);
    expect((await a.call('GET', `/events/targetIndustries?datasetIds=${other}`)).body.result).toEqual([
      'Energy',
      'Telecoms',
    ]);
  });
  it('E47: one dataset; 404 when unknown', async () => {
    const res = await a.call('GET', `/events/dataset/${other}/targetIndustries`);
    expect(res.status).toBe(200);
    expect(res.body.result).toEqual(['Energy', 'Telecoms']);
    expect((await a.call('GET', '/events/dataset/nope/targetIndustries')).status).toBe(404);
  });
  it('an empty dataset has none', async () => {
    const empty = (await a.call('POST', '/events/dataset/create', { name: 'empty', isPublic: false })).body
      .result.uuid;
    expect((await a.call('GET', `/events/dataset/${empty}/targetIndustries`)).body.result).toEqual([]);
  });
});

describe('E44 / E46 static lists', () => {
  it('E44: countries as {alpha2, alpha3, name}', async () => {
    const res = await a.call('GET', '/events/countries');
    expect(res.status).toBe(200);
    expect(res.body.result.length).toBeGreaterThan(240);
    expect(res.body.result).toContainEqual({ alpha2: 'US', alpha3: 'USA', name: 'United States of America' });
    expect(Object.keys(res.body.result[0]).sort()).toEqual(['alpha2', 'alpha3', 'name']);
  });
  it('E46: the sector catalog as strings', async () => {
    const res = await a.call('GET', '/events/targetIndustries/catalog');
    expect(res.status).toBe(200);
    expect(res.body.result).toHaveLength(118);
    expect(res.body.result).toEqual(expect.arrayContaining(['Finance', 'Energy', 'Telecoms']));
    for (const s of res.body.result) expect(typeof s).toBe('string');
  });
});

describe('look-up lists: authorization and account scope', () => {
  const paths = [
    '/events/attackers',
    '/events/countries',
    '/events/targetIndustries',
    '/events/targetIndustries/catalog',
  ];
  it('401 without a token, 403 with another account’s token', async () => {
    const b = await t.account();
    for (const path of [...paths, `/events/dataset/${other}/targetIndustries`]) {
      const none = await a.call('GET', path, undefined, { token: null });
      expect(none.status, path).toBe(401);
      expect(none.body.errors[0]?.code).toBe(10000);
      const wrong = await a.call('GET', path, undefined, { token: b.readToken });
      expect(wrong.status, path).toBe(403);
      expect(wrong.body.errors[0]?.code).toBe(10001);
    }
  });
  it('another account sees none of these events and cannot name the dataset', async () => {
    const b = await t.account();
    expect((await b.call('GET', '/events/attackers')).body.result).toEqual([]);
    expect((await b.call('GET', '/events/targetIndustries?datasetIds=all')).body.result).toEqual([]);
    expect((await b.call('GET', `/events/attackers?datasetIds=${other}`)).status).toBe(404);
    expect((await b.call('GET', `/events/dataset/${other}/targetIndustries`)).status).toBe(404);
  });
});
