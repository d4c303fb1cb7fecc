import { describe, expect, it } from 'vitest';
import { makeEvent, makeTestApp } from '../helpers.ts';
import { create, dotted, list } from './support.ts';

const t = makeTestApp();

/** Every ThreatEvent field (C0.1) and the JSON type it must have. */
const THREAT_EVENT_FIELDS: Record<string, 'string' | 'number' | 'boolean' | 'string[]' | 'number[]'> = {
  attacker: 'string',
  attackerCountry: 'string',
  attackerCountryAlpha3: 'string',
  category: 'string',
  datasetId: 'string',
  date: 'string',
  event: 'string',
  hasChildren: 'boolean',
  indicator: 'string',
  indicatorType: 'string',
  indicatorTypeId: 'number',
  insight: 'string',
  killChain: 'number',
  mitreAttack: 'string[]',
  mitreCapec: 'string[]',
  numReferenced: 'number',
  numReferences: 'number',
  rawId: 'string',
  referenced: 'string[]',
  referencedIds: 'number[]',
  references: 'string[]',
  referencesIds: 'number[]',
  releasabilityId: 'string',
  tags: 'string[]',
  targetCountry: 'string',
  targetCountryAlpha3: 'string',
  targetIndustry: 'string',
  tlp: 'string',
  uuid: 'string',
};

function typeOf(value: unknown): string {
  if (Array.isArray(value)) {
    const inner = new Set(value.map((v) => typeof v));
    return inner.size === 0 ? 'empty[]' : `${[...inner].join('|')}[]`;
  }
  return typeof value;
}

function expectThreatEventShape(e: Record<string, unknown>, optional: string[] = []): void {
  for (const [field, type] of Object.entries(THREAT_EVENT_FIELDS)) {
    if (optional.includes(field) && !(field in e)) continue;
    const actual = typeOf(e[field]);
    if (actual === 'empty[]') expect(type, field).toMatch(/\[\]$/);
    else expect(actual, field).toBe(type);
  }
}

async function defaultDatasetId(account: Awaited<ReturnType<typeof t.account>>): Promise<string> {
  const res = await account.call('GET', '/events/dataset');
  const d = (res.body.result as { name: string; uuid: string }[]).find(
    (x) => x.name === 'Cloudforce One Threat Events',
  );
  if (!d) throw new Error('no default dataset');
  return d.uuid;
}

describe('POST /events/create (E02)', () => {
  it('answers every ThreatEvent field with its type, from the 002 example body', async () => {
    const account = await t.account();
    const res = await account.call('POST', '/events/create', {
      category: 'Domain Resolution',
      date: '2022-04-01T00:00:00Z',
      event: 'An attacker registered the domain domain.com',
      raw: { data: { foo: 'bar' } },
      tlp: 'amber',
      accountId: 123456,
      attacker: 'Flying Yeti',
      attackerCountry: 'CN',
      indicator: 'domain.com',
      indicatorType: 'domain',
      insight: 'This domain was likely registered for phishing purposes',
      targetCountry: 'US',
      targetIndustry: 'Agriculture',
      releasabilityId: 'rel-1',
      tags: ['malware'],
    });
    expect(res.status).toBe(200);
    expect(res.body.success).toBe(true);
    expect(res.body.errors).toEqual([]);
    const e = res.body.result;
    expectThreatEventShape(e);
    expect(e).toMatchObject({
      attacker: 'Flying Yeti',
      attackerCountry: 'CN',
      attackerCountryAlpha3: 'CHN',
      category: 'Domain Resolution',
      datasetId: await defaultDatasetId(account),
      date: '2022-04-01T00:00:00.000Z',
      event: 'An attacker registered the domain domain.com',
      hasChildren: false,
      indicator: 'domain.com',
      indicatorType: 'domain',
      indicatorTypeId: 5,
      insight: 'This domain was likely registered for phishing purposes',
      killChain: 0,
      mitreAttack: [],
      mitreCapec: [],
      releasabilityId: 'rel-1',
      tags: ['malware'],
      targetCountry: 'US',
      targetCountryAlpha3: 'USA',
      targetIndustry: 'Agriculture',
      tlp: 'amber',
      createdAt: new Date(t.clock.now()).toISOString(),
    });
    expect(e.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(e.rawId).toEqual(expect.any(String));
    expect(e.rawId).not.toBe('');
  });

  it('leaves out insight and releasabilityId when not given', async () => {
    const account = await t.account();
    const e = await create(account, makeEvent({ insight: undefined }));
    expectThreatEventShape(e, ['insight', 'releasabilityId']);
    expect('insight' in e).toBe(false);
    expect('releasabilityId' in e).toBe(false);
  });

  it('fills the alpha-3 codes from countries given by alpha-2, alpha-3 or name', async () => {
    const account = await t.account();
    const byName = await create(account, makeEvent({ attackerCountry: 'Iran', targetCountry: 'deu' }));
    expect(byName).toMatchObject({
      attackerCountry: 'IR',
      attackerCountryAlpha3: 'IRN',
      targetCountry: 'DE',
      targetCountryAlpha3: 'DEU',
    });
    const found = await list(account, dotted([{ field: 'attackerCountry', op: 'equals', value: 'IR' }]));
    expect(found.result.map((x: { uuid: string }) => x.uuid)).toEqual([byName.uuid]);
  });

  it('gives each indicator type a stable number', async () => {
    const account = await t.account();
    const a = await create(account, makeEvent({ indicator: 'wallet-1', indicatorType: 'wallet' }));
    const b = await create(account, makeEvent({ indicator: 'wallet-2', indicatorType: 'wallet' }));
    const c = await create(account, makeEvent({ indicator: '203.0.113.9', indicatorType: 'ip' }));
    const d = await create(account, makeEvent({ indicator: 'x.example', indicatorType: 'domain' }));
    expect(a.indicatorTypeId).toEqual(expect.any(Number));
    expect(b.indicatorTypeId).toBe(a.indicatorTypeId);
    expect(new Set([a.indicatorTypeId, c.indicatorTypeId, d.indicatorTypeId]).size).toBe(3);
    const again = await account.call('GET', `/events/${a.uuid}`);
    expect(again.body.result.indicatorTypeId).toBe(a.indicatorTypeId);
  });

  it('fills indicator and indicatorType from the first of indicators[] when absent', async () => {
    const account = await t.account();
    const e = await create(
      account,
      makeEvent({
        indicator: undefined,
        indicatorType: undefined,
        indicators: [
          { indicatorType: 'ip', value: '198.51.100.23' },
          { indicatorType: 'domain', value: 'second.example' },
        ],
      }),
    );
    expect(e.indicator).toBe('198.51.100.23');
    expect(e.indicatorType).toBe('ip');
    expect(e.indicators).toEqual([
      { indicatorType: 'ip', value: '198.51.100.23' },
      { indicatorType: 'domain', value: 'second.example' },
    ]);
    const withOwn = await create(
      account,
      makeEvent({
        indicator: 'own.example',
        indicatorType: 'domain',
        indicators: [{ indicatorType: 'ip', value: '198.51.100.24' }],
      }),
    );
    expect(withOwn.indicator).toBe('own.example');
    expect(withOwn.indicatorType).toBe('domain');
  });

  it('stores extension fields killChain, mitreAttack and mitreCapec', async () => {
    const account = await t.account();
    const e = await create(
      account,
      makeEvent({ killChain: 4, mitreAttack: ['T1566', 'T1566', 'T1078'], mitreCapec: ['CAPEC-98'] }),
    );
    expect(e).toMatchObject({ killChain: 4, mitreAttack: ['T1566', 'T1078'], mitreCapec: ['CAPEC-98'] });
  });

  it('writes into the dataset named by datasetId, and 404s for an unknown one', async () => {
    const account = await t.account();
    const ds = await account.call('POST', '/events/dataset/create', { name: 'Own feed', isPublic: false });
    const e = await create(account, makeEvent({ datasetId: ds.body.result.uuid }));
    expect(e.datasetId).toBe(ds.body.result.uuid);
    const inDefault = await list(account, '');
    expect(inDefault.result).toEqual([]);
    const unknown = await account.call('POST', '/events/create', makeEvent({ datasetId: 'no-such-dataset' }));
    expect(unknown.status).toBe(404);
    expect(unknown.body.errors[0]?.message).toMatch(/no-such-dataset/);
  });

  it('lists every missing or mistyped field with its path', async () => {
    const account = await t.account();
    const empty = await account.call('POST', '/events/create', {});
    expect(empty.status).toBe(400);
    const messages = empty.body.errors.map((x) => x.message);
    for (const field of ['category', 'date', 'event', 'raw', 'tlp']) {
      expect(
        messages.some((m) => m.startsWith(`${field}:`)),
        field,
      ).toBe(true);
    }
    const wrong = await account.call(
      'POST',
      '/events/create',
      makeEvent({ category: 7, tags: 'malware', indicators: [{ indicatorType: 'ip' }], killChain: 'high' }),
    );
    expect(wrong.status).toBe(400);
    const paths = wrong.body.errors.map((x) => x.message.split(':')[0]);
    expect(paths).toEqual(expect.arrayContaining(['category', 'tags', 'indicators[0].value', 'killChain']));
    expect(wrong.body.errors).toHaveLength(4);
  });

  it('refuses dates that are not ISO 8601 and out-of-range numbers', async () => {
    const account = await t.account();
    const date = await account.call('POST', '/events/create', makeEvent({ date: 'last tuesday' }));
    expect(date.status).toBe(400);
    expect(date.body.errors[0]?.message).toMatch(/^date:/);
    for (const impossible of [
      '2025-02-30T00:00:00Z',
      '2025-02-29',
      '2025-04-31T12:00:00Z',
      '2025-01-01T24:00:00Z',
    ]) {
      const res = await account.call('POST', '/events/create', makeEvent({ date: impossible }));
      expect(res.status, impossible).toBe(400);
      expect(res.body.errors[0]?.message).toMatch(/^date:/);
    }
    const leap = await account.call('POST', '/events/create', makeEvent({ date: '2024-02-29T23:59:59Z' }));
    expect(leap.body.result.date).toBe('2024-02-29T23:59:59.000Z');
    const offset = await account.call(
      'POST',
      '/events/create',
      makeEvent({ date: '2024-03-01T01:30:00+02:00' }),
    );
    expect(offset.body.result.date).toBe('2024-02-29T23:30:00.000Z');
    for (const killChain of [-1, 101, 2.5]) {
      const res = await account.call('POST', '/events/create', makeEvent({ killChain }));
      expect(res.status, String(killChain)).toBe(400);
      expect(res.body.errors[0]?.message).toMatch(/^killChain:/);
    }
  });
});
