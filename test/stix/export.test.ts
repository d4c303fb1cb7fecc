import { beforeAll, describe, expect, it } from 'vitest';
import { quote, stixPattern } from '../../src/domain/stix/patterns.ts';
import { uuidv5 } from '../../src/domain/stix/uuid5.ts';
import { makeEvent, makeTestApp, type TestAccount } from '../helpers.ts';
import { loadStixSchemas, type StixValidator } from './schemas.ts';

interface Obj {
  type: string;
  id: string;
  [k: string]: unknown;
}
interface Bundle {
  type: string;
  id: string;
  objects?: Obj[];
}
interface Envelope {
  more: boolean;
  next?: string;
  objects?: Obj[];
}

const t = makeTestApp();
let account: TestAccount;
let stix: StixValidator;

/** GET under /client/v4/accounts/<id>/cloudforce-one, keeping the raw Response. */
async function get(path: string, token = account.readToken): Promise<Response> {
  return t.app.request(`/client/v4/accounts/${account.id}/cloudforce-one${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
}

/** A tiny check of STIX pattern syntax: one comparison, string literals with \\ and \' escapes only. */
const PATTERN =
  /^\[[a-z0-9-]+:[a-z0-9_]+(\.('[^']+'|[a-z0-9_]+))* (=|ISSUBSET|MATCHES) ('(?:[^'\\]|\\['\\])*'|\d+)\]$/;

const INDICATORS: [string, string][] = [
  ['domain', 'evil.example'],
  ['ip', '192.0.2.7'],
  ['ip', '2001:db8::7'],
  ['url', "https://evil.example/a'b\\c?x=1"],
  ['md5', 'd41d8cd98f00b204e9800998ecf8427e'],
  ['sha1', 'da39a3ee5e6b4b0d3255bfef95601890afd80709'],
  ['sha256', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ['email', "o'brien@evil.example"],
  ['ja3', 'e7d705a3286e19ea42f587b344ee6865'],
  ['url-path', '/wp-admin/x.php'],
  ['cidr', '198.51.100.0/24'],
  ['asn', 'AS64500'],
  ['mutex', 'Global\\evil'],
];

beforeAll(async () => {
  stix = loadStixSchemas();
  account = await t.account();
  const tlps = ['clear', 'white', 'green', 'amber', 'amber+strict', 'red', 'pap:amber'];
  const bodies = INDICATORS.map(([indicatorType, indicator], i) =>
    makeEvent({
      indicatorType,
      indicator,
      tlp: tlps[i % tlps.length],
      attacker: i % 5 === 4 ? '' : i % 2 ? 'Flying Yeti' : "Cozy 'Bear' \\ Team",
      attackerCountry: i % 3 ? 'RU' : '',
      targetCountry: i % 2 ? 'US' : 'Atlantis',
      targetIndustry: i % 4 ? 'Agriculture' : '',
      mitreAttack: i % 2 ? ['T1566', 'T1566.001'] : [],
      mitreCapec: i % 3 ? ['CAPEC-98', '163'] : ['not a capec id'],
      killChain: i % 8,
      insight: i % 2 ? 'Seen in a phishing wave' : undefined,
      event: i === 3 ? `${'long text '.repeat(40)}\nsecond line` : `Event ${i}`,
      tags: i % 2 ? ['phishing', 'malware'] : [],
      indicators: i === 0 ? [{ indicatorType: 'domain', value: 'second.example' }] : undefined,
    }),
  );
  const res = await account.call('POST', '/events/create/bulk', {
    datasetId: (await account.call('GET', '/events/dataset')).body.result[0].uuid,
    data: bodies,
  });
  expect(res.status).toBe(202);
  expect(res.body.result.errorCount).toBe(0);
});

describe('STIX patterns', () => {
  it.each([
    ['domain', 'evil.example', "[domain-name:value = 'evil.example']"],
    ['ip', '192.0.2.1', "[ipv4-addr:value = '192.0.2.1']"],
    ['ip', '2001:db8::1', "[ipv6-addr:value = '2001:db8::1']"],
    ['url', 'https://x.example/', "[url:value = 'https://x.example/']"],
    ['md5', 'D41D8CD98F00B204E9800998ECF8427E', "[file:hashes.'MD5' = 'd41d8cd98f00b204e9800998ecf8427e']"],
    ['sha1', 'a'.repeat(40), `[file:hashes.'SHA-1' = '${'a'.repeat(40)}']`],
    ['sha256', 'b'.repeat(64), `[file:hashes.'SHA-256' = '${'b'.repeat(64)}']`],
    ['email', 'a@evil.example', "[email-addr:value = 'a@evil.example']"],
    ['ja3', 'c'.repeat(32), `[x-ja3:value = '${'c'.repeat(32)}']`],
    ['asn', 'AS13335', '[autonomous-system:number = 13335]'],
    ['cidr', '10.0.0.0/8', "[ipv4-addr:value ISSUBSET '10.0.0.0/8']"],
  ])('%s %s → %s', (type, value, pattern) => {
    expect(stixPattern(type, value)).toBe(pattern);
    expect(pattern).toMatch(PATTERN);
  });

  it('escapes quotes and backslashes inside string literals', () => {
    expect(quote("a'b\\c")).toBe("'a\\'b\\\\c'");
    expect(stixPattern('url', "https://x.example/it's\\")).toBe(
      "[url:value = 'https://x.example/it\\'s\\\\']",
    );
    for (const [type, value] of INDICATORS) expect(stixPattern(type, value)).toMatch(PATTERN);
  });

  it('derives RFC 9562 version 5 ids', () => {
    // The DNS-namespace example every uuid5 implementation agrees on.
    expect(uuidv5('python.org', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '886313e1-3b8a-5372-9b90-0c9aee199e5d',
    );
  });
});

describe('GET /events?format=stix2 (E01)', () => {
  let bundle: Bundle;
  beforeAll(async () => {
    const res = await get('/events?format=stix2&pageSize=100');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/stix+json;version=2.1');
    bundle = (await res.json()) as Bundle;
  });

  it('answers a bundle whose every object validates against the OASIS schemas', () => {
    expect(bundle.type).toBe('bundle');
    expect(stix.bundle(bundle)).toEqual([]);
    const objects = bundle.objects ?? [];
    expect(objects.filter((o) => o.type === 'report')).toHaveLength(INDICATORS.length);
    expect(objects.filter((o) => o.type === 'indicator')).toHaveLength(INDICATORS.length + 1);
    expect(new Set(objects.map((o) => o.id)).size).toBe(objects.length);
  });

  it('patterns every indicator type, escaping quotes and backslashes', () => {
    const patterns = (bundle.objects ?? [])
      .filter((o) => o.type === 'indicator')
      .map((o) => String(o.pattern));
    for (const p of patterns) expect(p).toMatch(PATTERN);
    expect(patterns).toContain("[url:value = 'https://evil.example/a\\'b\\\\c?x=1']");
    expect(patterns).toContain("[email-addr:value = 'o\\'brien@evil.example']");
    expect(patterns).toContain(
      "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
    );
    expect(patterns).toContain("[ipv6-addr:value = '2001:db8::7']");
    expect(patterns).toContain("[x-mutex:value = 'Global\\\\evil']");
  });

  it('marks objects with the published TLP marking definitions', () => {
    const objects = bundle.objects ?? [];
    const markings = objects.filter((o) => o.type === 'marking-definition').map((o) => [o.name, o.id]);
    expect(Object.fromEntries(markings)).toEqual({
      'TLP:CLEAR': 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
      'TLP:WHITE': 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9',
      'TLP:GREEN': 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
      'TLP:AMBER': 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
      'TLP:AMBER+STRICT': 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
      'TLP:RED': 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
    });
    const reports = objects.filter((o) => o.type === 'report');
    // 'pap:amber' names no TLP level: those objects carry no marking.
    expect(reports.filter((r) => r.object_marking_refs === undefined)).toHaveLength(1);
    for (const r of reports.filter((x) => x.object_marking_refs)) {
      expect(markings.map((m) => m[1])).toContain((r.object_marking_refs as string[])[0]);
    }
  });

  it('links indicators, actors, sectors and countries, and every reference resolves in the bundle', () => {
    const objects = bundle.objects ?? [];
    const ids = new Set(objects.map((o) => o.id));
    const relationships = objects.filter((o) => o.type === 'relationship');
    const kinds = new Set(relationships.map((r) => r.relationship_type));
    expect([...kinds].sort()).toEqual(['indicates', 'targets']);
    for (const r of relationships) {
      expect(ids).toContain(r.source_ref);
      expect(ids).toContain(r.target_ref);
    }
    for (const o of objects) {
      for (const ref of (o.object_refs as string[] | undefined) ?? []) expect(ids).toContain(ref);
      if (o.created_by_ref) expect(ids).toContain(o.created_by_ref);
      for (const ref of (o.object_marking_refs as string[] | undefined) ?? []) expect(ids).toContain(ref);
    }
    const actors = objects.filter((o) => o.type === 'threat-actor').map((o) => o.name);
    expect(actors.sort()).toEqual(["Cozy 'Bear' \\ Team", 'Flying Yeti']);
    const sector = objects.find((o) => o.type === 'identity' && o.identity_class === 'class');
    expect(sector?.sectors).toEqual(['agriculture']);
    const reports = objects.filter((o) => o.type === 'report');
    const targets = new Set(reports.map((r) => r.x_threatdesk_target_country));
    expect([...targets].sort()).toEqual(['Atlantis', 'US']);
    const origins = new Set(reports.map((r) => r.x_threatdesk_attacker_country));
    expect([...origins].sort()).toEqual(['RU', undefined]);
    const report = objects.find((o) => o.type === 'report' && String(o.name).startsWith('long text'));
    expect(String(report?.name).length).toBeLessThanOrEqual(200);
  });

  it('exports the same ids every time', async () => {
    const again = (await (await get('/events?format=stix2&pageSize=100')).json()) as Bundle;
    expect(again.id).not.toBe(bundle.id);
    expect(again.objects).toEqual(bundle.objects);
  });

  it('refuses unknown formats and export=all without a STIX format', async () => {
    expect((await get('/events?format=csv')).status).toBe(400);
    expect((await get('/events?export=all')).status).toBe(400);
    expect((await get('/events?format=stix2&export=everything')).status).toBe(400);
    expect((await get('/events?format=stix2&export=all&page=2')).status).toBe(400);
    expect((await get('/events?format=json')).status).toBe(200);
  });
});

describe('GET /events?format=taxii (E01)', () => {
  it('answers TAXII envelopes whose next is the cursor of the following page', async () => {
    const reports: string[] = [];
    let query = 'format=taxii&pageSize=4';
    for (let guard = 0; guard < 20; guard++) {
      const res = await get(`/events?${query}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/taxii+json;version=2.1');
      const body = (await res.json()) as Envelope;
      for (const o of body.objects ?? []) expect(stix.object(o)).toEqual([]);
      reports.push(...(body.objects ?? []).filter((o) => o.type === 'report').map((o) => o.id));
      expect(body.more).toBe(body.next !== undefined);
      if (!body.next) break;
      query = `format=taxii&pageSize=4&cursor=${encodeURIComponent(body.next)}`;
    }
    expect(reports).toHaveLength(INDICATORS.length);
    expect(new Set(reports).size).toBe(INDICATORS.length);
  });

  it('streams every event with export=all', async () => {
    const res = await get('/events?format=taxii&export=all');
    const body = (await res.json()) as Envelope;
    expect(body.more).toBe(false);
    expect(body.objects?.filter((o) => o.type === 'report')).toHaveLength(INDICATORS.length);
  });

  it('omits objects when nothing matches', async () => {
    const none = 'search.field=attacker&search.op=equals&search.value=nobody';
    expect(await (await get(`/events?format=taxii&${none}`)).json()).toEqual({ more: false });
    const b = (await (await get(`/events?format=stix2&${none}`)).json()) as Bundle;
    expect(b.objects).toBeUndefined();
    expect(stix.bundle(b)).toEqual([]);
  });
});

describe('GET /events/indicators?format=stix2|taxii (E54)', () => {
  it('answers Indicator SDOs that validate, with deterministic ids', async () => {
    const res = await get('/events/indicators?format=stix2&pageSize=100');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/stix+json;version=2.1');
    const b = (await res.json()) as Bundle;
    expect(stix.bundle(b)).toEqual([]);
    const indicators = (b.objects ?? []).filter((o) => o.type === 'indicator');
    expect(indicators).toHaveLength(INDICATORS.length + 1);
    for (const i of indicators) expect(String(i.pattern)).toMatch(PATTERN);
    const again = (await (await get('/events/indicators?format=stix2&pageSize=100')).json()) as Bundle;
    expect(again.objects).toEqual(b.objects);
  });

  it('pages TAXII envelopes by cursor', async () => {
    let res = await get('/events/indicators?format=taxii&pageSize=5');
    expect(res.headers.get('content-type')).toBe('application/taxii+json;version=2.1');
    const seen: string[] = [];
    for (let guard = 0; guard < 10; guard++) {
      const body = (await res.json()) as Envelope;
      for (const o of body.objects ?? []) expect(stix.object(o)).toEqual([]);
      seen.push(...(body.objects ?? []).filter((o) => o.type === 'indicator').map((o) => o.id));
      if (!body.next) break;
      expect(body.more).toBe(true);
      res = await get(`/events/indicators?format=taxii&cursor=${encodeURIComponent(body.next)}`);
    }
    expect(new Set(seen).size).toBe(INDICATORS.length + 1);
  });

  it('refuses unknown formats', async () => {
    expect((await get('/events/indicators?format=xml')).status).toBe(400);
  });
});
