import { beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, makeTestApp, type TestApp } from '../helpers.ts';

let t: TestApp;
beforeAll(() => {
  t = makeTestApp();
});

interface Category {
  uuid: string;
  name: string;
  killChain: number;
  mitreAttack: string[];
  mitreCapec: string[];
  shortname?: string;
}

describe('E53 GET /events/categories/catalog', () => {
  it('holds the 7 kill chain phases and the 14 ATT&CK tactics with real technique ids', async () => {
    const a = await t.account();
    const res = await a.call('GET', '/events/categories/catalog', undefined, { token: a.readToken });
    expect(res.status).toBe(200);
    const list = res.body.result as Category[];
    expect(list).toHaveLength(21);
    const phases = list.filter((c) => c.shortname?.startsWith('kill-chain:'));
    expect(phases.map((c) => [c.name, c.killChain])).toEqual([
      ['Reconnaissance', 1],
      ['Weaponization', 2],
      ['Delivery', 3],
      ['Exploitation', 4],
      ['Installation', 5],
      ['Command and Control', 6],
      ['Actions on Objectives', 7],
    ]);
    const initial = list.find((c) => c.shortname === 'initial-access');
    expect(initial).toMatchObject({ name: 'Initial Access', killChain: 3 });
    expect(initial?.mitreAttack).toEqual(expect.arrayContaining(['T1566', 'T1190', 'T1078']));
    const impact = list.find((c) => c.shortname === 'impact');
    expect(impact?.mitreAttack).toContain('T1486');
    for (const c of list) {
      expect(c.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      for (const id of c.mitreAttack) expect(id).toMatch(/^T\d{4}$/);
    }
    expect(new Set(list.map((c) => c.uuid)).size).toBe(21);
    // The catalog is the same for every account (stable ids).
    const b = await t.account();
    expect((await b.call('GET', '/events/categories/catalog')).body.result).toEqual(list);
  });
});

describe('E48–E52 event categories', () => {
  it('creates, lists, gets, edits and deletes', async () => {
    const a = await t.account();
    const created = await a.call('POST', '/events/categories/create', {
      name: 'Credential Phishing',
      killChain: 3,
      mitreAttack: ['t1566.002', 'T1566', 'T1566'],
      mitreCapec: ['CAPEC-98'],
      shortname: 'cred-phish',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const cat = created.body.result as Category;
    expect(cat).toMatchObject({
      name: 'Credential Phishing',
      killChain: 3,
      mitreAttack: ['T1566.002', 'T1566'],
      mitreCapec: ['CAPEC-98'],
      shortname: 'cred-phish',
    });
    const list = await a.call('GET', '/events/categories');
    expect(list.status).toBe(200);
    expect(list.body.result).toEqual([cat]);
    expect((await a.call('GET', `/events/categories/${cat.uuid}`)).body.result).toEqual(cat);

    const edited = await a.call('PATCH', `/events/categories/${cat.uuid}`, { killChain: 7, mitreAttack: [] });
    expect(edited.status).toBe(200);
    expect(edited.body.result).toMatchObject({ name: 'Credential Phishing', killChain: 7, mitreAttack: [] });

    const del = await a.call('DELETE', `/events/categories/${cat.uuid}`);
    expect(del.status).toBe(200);
    expect(del.body.result).toEqual({ uuid: cat.uuid });
    expect((await a.call('GET', `/events/categories/${cat.uuid}`)).status).toBe(404);
    expect((await a.call('DELETE', `/events/categories/${cat.uuid}`)).status).toBe(404);
    expect((await a.call('GET', '/events/categories')).body.result).toEqual([]);
  });

  it('checks mitreAttack against ATT&CK, naming the unknown id', async () => {
    const a = await t.account();
    const res = await a.call('POST', '/events/categories/create', {
      name: 'Bad',
      killChain: 1,
      mitreAttack: ['T1566', 'T9999', 'T1086'],
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]?.code).toBe(1001);
    expect(res.body.errors.map((e: { message: string }) => e.message)).toEqual([
      'mitreAttack[1]: "T9999" is not an ATT&CK Enterprise technique id',
      'mitreAttack[2]: "T1086" is not an ATT&CK Enterprise technique id',
    ]);
    const ok = await a.call('POST', '/events/categories/create', { name: 'Good', killChain: 1 });
    const edit = await a.call('PATCH', `/events/categories/${ok.body.result.uuid}`, { mitreAttack: ['X1'] });
    expect(edit.status).toBe(400);
    expect(edit.body.errors[0]?.message).toMatch(/^mitreAttack\[0\]: "X1"/);
  });

  it('refuses missing fields (400), a taken name (409), catalog edits (400)', async () => {
    const a = await t.account();
    const missing = await a.call('POST', '/events/categories/create', { name: 'x' });
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0]?.message).toMatch(/^killChain:/);
    await a.call('POST', '/events/categories/create', { name: 'Dup', killChain: 1 });
    const dup = await a.call('POST', '/events/categories/create', { name: 'dup', killChain: 2 });
    expect(dup.status).toBe(409);
    expect(dup.body.errors[0]?.code).toBe(1005);
    const catalog = (await a.call('GET', '/events/categories/catalog')).body.result as Category[];
    const first = catalog[0];
    expect((await a.call('GET', `/events/categories/${first?.uuid}`)).body.result).toEqual(first);
    const edit = await a.call('PATCH', `/events/categories/${first?.uuid}`, { killChain: 2 });
    expect(edit.status).toBe(400);
    expect(edit.body.errors[0]?.message).toMatch(/^category_id: .* built-in catalog category/);
    expect((await a.call('DELETE', `/events/categories/${first?.uuid}`)).status).toBe(400);
  });

  it('E48 checks datasetIds', async () => {
    const a = await t.account();
    expect((await a.call('GET', '/events/categories?datasetIds=nope')).status).toBe(404);
    const ds = await a.call('POST', '/events/dataset/create', { name: 'feed', isPublic: false });
    expect((await a.call('GET', `/events/categories?datasetIds=${ds.body.result.uuid}`)).status).toBe(200);
  });

  it('authorization: 401 without token, 403 read token on writes and another account; accounts are apart', async () => {
    const a = await t.account();
    const b = await t.account();
    const cat = (await a.call('POST', '/events/categories/create', { name: 'Mine', killChain: 2 })).body
      .result as Category;
    const writes: [string, string, unknown][] = [
      ['POST', '/events/categories/create', { name: 'x', killChain: 1 }],
      ['PATCH', `/events/categories/${cat.uuid}`, { killChain: 3 }],
      ['DELETE', `/events/categories/${cat.uuid}`, undefined],
    ];
    const reads: [string, string, unknown][] = [
      ['GET', '/events/categories', undefined],
      ['GET', '/events/categories/catalog', undefined],
      ['GET', `/events/categories/${cat.uuid}`, undefined],
    ];
    for (const [method, path, body] of [...writes, ...reads]) {
      const none = await a.call(method, path, body, { token: null });
      expect(none.status).toBe(401);
      expect(none.body.errors[0]?.code).toBe(10000);
      const other = await a.call(method, path, body, { token: b.writeToken });
      expect(other.status).toBe(403);
    }
    for (const [method, path, body] of writes) {
      const read = await a.call(method, path, body, { token: a.readToken });
      expect(read.status).toBe(403);
      expect(read.body.errors[0]?.code).toBe(10001);
    }
    for (const [method, path, body] of reads)
      expect((await a.call(method, path, body, { token: a.readToken })).status).toBe(200);
    expect((await b.call('GET', '/events/categories')).body.result).toEqual([]);
    expect((await b.call('GET', `/events/categories/${cat.uuid}`)).status).toBe(404);
    expect((await b.call('PATCH', `/events/categories/${cat.uuid}`, { killChain: 1 })).status).toBe(404);
  });
});

describe('events take killChain and mitreAttack from their category', () => {
  it('from an account category, by name or shortname, case-insensitively; the body wins', async () => {
    const a = await t.account();
    await a.call('POST', '/events/categories/create', {
      name: 'Credential Phishing',
      shortname: 'cred-phish',
      killChain: 3,
      mitreAttack: ['T1566.002'],
    });
    const byName = await a.call('POST', '/events/create', makeEvent({ category: 'credential phishing' }));
    expect(byName.status).toBe(200);
    expect(byName.body.result).toMatchObject({ killChain: 3, mitreAttack: ['T1566.002'] });
    const byShort = await a.call('POST', '/events/create', makeEvent({ category: 'CRED-PHISH' }));
    expect(byShort.body.result).toMatchObject({ killChain: 3, mitreAttack: ['T1566.002'] });
    const explicit = await a.call(
      'POST',
      '/events/create',
      makeEvent({ category: 'Credential Phishing', killChain: 5, mitreAttack: ['T1059'] }),
    );
    expect(explicit.body.result).toMatchObject({ killChain: 5, mitreAttack: ['T1059'] });
    const halfExplicit = await a.call(
      'POST',
      '/events/create',
      makeEvent({ category: 'Credential Phishing', killChain: 6 }),
    );
    expect(halfExplicit.body.result).toMatchObject({ killChain: 6, mitreAttack: ['T1566.002'] });
    const unknown = await a.call('POST', '/events/create', makeEvent({ category: 'Domain Resolution' }));
    expect(unknown.body.result).toMatchObject({ killChain: 0, mitreAttack: [] });
  });

  it('from the catalog, and the account category wins over the catalog', async () => {
    const a = await t.account();
    const phase = await a.call('POST', '/events/create', makeEvent({ category: 'Weaponization' }));
    expect(phase.body.result).toMatchObject({ killChain: 2, mitreAttack: [] });
    const tactic = await a.call('POST', '/events/create', makeEvent({ category: 'initial-access' }));
    expect(tactic.body.result.killChain).toBe(3);
    expect(tactic.body.result.mitreAttack).toEqual(expect.arrayContaining(['T1566', 'T1190']));
    await a.call('POST', '/events/categories/create', { name: 'Weaponization', killChain: 9 });
    const own = await a.call('POST', '/events/create', makeEvent({ category: 'Weaponization' }));
    expect(own.body.result).toMatchObject({ killChain: 9, mitreAttack: [] });
  });

  it('in bulk ingest', async () => {
    const a = await t.account();
    const ds = (await a.call('POST', '/events/dataset/create', { name: 'bulk', isPublic: false })).body
      .result;
    await a.call('POST', '/events/categories/create', {
      name: 'C2 Beacon',
      killChain: 6,
      mitreAttack: ['T1071'],
    });
    const res = await a.call('POST', '/events/create/bulk', {
      datasetId: ds.uuid,
      includeCreatedEvents: true,
      data: [
        makeEvent({ category: 'C2 Beacon' }),
        makeEvent({ category: 'Exfiltration' }),
        makeEvent({ category: 'C2 Beacon', killChain: 1, mitreAttack: [] }),
      ],
    });
    expect(res.status).toBe(202);
    const created = res.body.result.createdEvents as { eventIndex: number; uuid: string }[];
    const get = async (i: number) => {
      const uuid = created.find((c) => c.eventIndex === i)?.uuid;
      return (await a.call('GET', `/events/dataset/${ds.uuid}/events/${uuid}`)).body.result;
    };
    expect(await get(0)).toMatchObject({ killChain: 6, mitreAttack: ['T1071'] });
    const exfil = await get(1);
    expect(exfil.killChain).toBe(7);
    expect(exfil.mitreAttack).toContain('T1041');
    expect(await get(2)).toMatchObject({ killChain: 1, mitreAttack: [] });
  });
});
