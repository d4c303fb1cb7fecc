import { beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, makeTestApp, type TestAccount } from '../helpers.ts';
import { type Cond, create, dotted, list, uuidsFor } from './support.ts';

const t = makeTestApp();
let account: TestAccount;
/** The events of the fixture, by a short name. */
const ev: Record<'yeti' | 'cozy' | 'apt' | 'aptx', { uuid: string; createdAt: string }> = {} as never;
let all: string[];

const same = (a: readonly string[], b: readonly string[]) => expect([...a].sort()).toEqual([...b].sort());
const ids = (...names: (keyof typeof ev)[]) => names.map((n) => ev[n].uuid);
const find = (conditions: Cond[]) => uuidsFor(account, conditions);

beforeAll(async () => {
  account = await t.account();
  ev.yeti = await create(
    account,
    makeEvent({
      date: '2025-03-01T00:00:00Z',
      attacker: 'Flying Yeti',
      attackerCountry: 'RU',
      event: 'Phishing campaign against banks',
      insight: 'Uses typosquatted domains',
      indicator: 'bank-login.example',
      indicatorType: 'domain',
      tags: ['phishing', 'finance'],
      mitreAttack: ['T1566'],
      killChain: 3,
      targetCountry: 'US',
      targetIndustry: 'Banking',
      category: 'Phishing',
    }),
  );
  t.clock.advance(60_000);
  ev.cozy = await create(
    account,
    makeEvent({
      date: '2025-03-05T00:00:00Z',
      attacker: 'Cozy Bear',
      attackerCountry: 'RU',
      event: 'Credential harvesting wave',
      insight: 'Operators reused infrastructure from 2023',
      indicator: undefined,
      indicatorType: undefined,
      indicators: [
        { indicatorType: 'ip', value: '203.0.113.7' },
        { indicatorType: 'domain', value: 'harvest.example' },
      ],
      tags: ['credential-theft'],
      mitreAttack: ['T1078', 'T1566'],
      mitreCapec: ['CAPEC-98'],
      killChain: 5,
      targetCountry: 'DE',
      targetIndustry: 'Government',
      category: 'Credential Theft',
      tlp: 'red',
    }),
  );
  t.clock.advance(60_000);
  ev.apt = await create(
    account,
    makeEvent({
      date: '2025-03-10T00:00:00Z',
      attacker: 'APT_28',
      attackerCountry: 'KP',
      event: 'Malware dropper observed',
      insight: 'Linked to lazarus tooling',
      indicator: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      indicatorType: 'sha256',
      tags: ['malware'],
      killChain: 7,
      targetCountry: 'GB',
      targetIndustry: 'Energy',
      category: 'Malware',
    }),
  );
  t.clock.advance(60_000);
  ev.aptx = await create(
    account,
    makeEvent({
      date: '2025-03-15T00:00:00Z',
      attacker: 'APTX28',
      attackerCountry: 'CN',
      event: 'Ransomware note found',
      insight: undefined,
      indicator: '198.51.100.1',
      indicatorType: 'ip',
      tags: [],
      targetCountry: 'US',
      targetIndustry: 'Finance',
      category: 'Ransomware',
      tlp: 'green',
    }),
  );
  all = ids('yeti', 'cozy', 'apt', 'aptx');
});

describe('GET /events string fields', () => {
  it('equals is exact and not excludes', async () => {
    same(await find([{ field: 'attacker', op: 'equals', value: 'Cozy Bear' }]), ids('cozy'));
    same(await find([{ field: 'attacker', op: 'equals', value: 'cozy' }]), []);
    same(await find([{ field: 'attacker', op: 'not', value: 'Cozy Bear' }]), ids('yeti', 'apt', 'aptx'));
    same(await find([{ field: 'targetCountry', op: 'equals', value: 'US' }]), ids('yeti', 'aptx'));
    same(await find([{ field: 'attackerCountry', op: 'equals', value: 'RU' }]), ids('yeti', 'cozy'));
    same(await find([{ field: 'category', op: 'equals', value: 'Malware' }]), ids('apt'));
    same(await find([{ field: 'tlp', op: 'not', value: 'amber' }]), ids('cozy', 'aptx'));
    same(await find([{ field: 'targetIndustry', op: 'equals', value: 'Finance' }]), ids('aptx'));
  });

  it('in matches any listed value, up to 100 values', async () => {
    same(await find([{ field: 'attacker', op: 'in', value: ['Cozy Bear', 'APT_28'] }]), ids('cozy', 'apt'));
    const hundred = Array.from({ length: 99 }, (_, i) => `nobody-${i}`).concat('Flying Yeti');
    same(await find([{ field: 'attacker', op: 'in', value: hundred }]), ids('yeti'));
    const tooMany = await account.call(
      'GET',
      `/events?${dotted([{ field: 'attacker', op: 'in', value: [...hundred, 'one more'] }])}`,
    );
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors[0]?.message).toMatch(/100/);
  });

  it('contains, startsWith and endsWith ignore case', async () => {
    same(await find([{ field: 'attacker', op: 'contains', value: 'BEAR' }]), ids('cozy'));
    same(await find([{ field: 'attacker', op: 'startsWith', value: 'apt' }]), ids('apt', 'aptx'));
    same(await find([{ field: 'attacker', op: 'endsWith', value: 'YETI' }]), ids('yeti'));
    same(await find([{ field: 'event', op: 'contains', value: 'dropper' }]), ids('apt'));
  });

  it('contains treats % and _ as plain characters', async () => {
    same(await find([{ field: 'attacker', op: 'contains', value: 'T_2' }]), ids('apt'));
    same(await find([{ field: 'attacker', op: 'contains', value: '%' }]), []);
  });

  it('like takes % and _ patterns, ignoring case', async () => {
    same(await find([{ field: 'attacker', op: 'like', value: 'apt_28' }]), ids('apt', 'aptx'));
    same(await find([{ field: 'attacker', op: 'like', value: '%yeti' }]), ids('yeti'));
    same(await find([{ field: 'attacker', op: 'like', value: 'c_zy%' }]), ids('cozy'));
    same(await find([{ field: 'attacker', op: 'like', value: 'cozy' }]), []);
  });

  it('find matches whole words across event, insight and indicators', async () => {
    // "lazarus" occurs only in an insight.
    same(await find([{ field: 'event', op: 'find', value: 'lazarus' }]), ids('apt'));
    // Every word must occur; here one in the event text and one in the insight.
    same(await find([{ field: 'event', op: 'find', value: 'credential infrastructure' }]), ids('cozy'));
    same(await find([{ field: 'event', op: 'find', value: 'credential lazarus' }]), []);
    // Words, not substrings: "phish" is not a word of "Phishing".
    same(await find([{ field: 'event', op: 'find', value: 'phish' }]), []);
    same(await find([{ field: 'event', op: 'find', value: 'PHISHING' }]), ids('yeti'));
    // A word of an indicator value (the second indicator of the event).
    same(await find([{ field: 'indicator', op: 'find', value: 'harvest' }]), ids('cozy'));
  });

  it('uuid equals and in', async () => {
    same(await find([{ field: 'uuid', op: 'equals', value: ev.apt.uuid }]), ids('apt'));
    same(await find([{ field: 'uuid', op: 'in', value: ids('yeti', 'aptx') }]), ids('yeti', 'aptx'));
    same(await find([{ field: 'uuid', op: 'not', value: ev.apt.uuid }]), ids('yeti', 'cozy', 'aptx'));
    same(await find([{ field: 'uuid', op: 'equals', value: 'not-a-uuid' }]), []);
    same(await find([{ field: 'uuid', op: 'equals', value: ev.apt.uuid.toUpperCase() }]), ids('apt'));
  });

  it('uuid does not match a uuid that differs only in its last digits', async () => {
    const near = (uuid: string) => uuid.slice(0, -1) + (uuid.endsWith('0') ? '1' : '0');
    same(await find([{ field: 'uuid', op: 'equals', value: near(ev.apt.uuid) }]), []);
    same(await find([{ field: 'uuid', op: 'in', value: [near(ev.apt.uuid), ev.cozy.uuid] }]), ids('cozy'));
    same(await find([{ field: 'uuid', op: 'not', value: near(ev.apt.uuid) }]), all);
  });
});

describe('GET /events date fields', () => {
  it('compares date with ISO timestamps', async () => {
    same(await find([{ field: 'date', op: 'gt', value: '2025-03-05T00:00:00Z' }]), ids('apt', 'aptx'));
    same(
      await find([{ field: 'date', op: 'gte', value: '2025-03-05T00:00:00.000Z' }]),
      ids('cozy', 'apt', 'aptx'),
    );
    same(await find([{ field: 'date', op: 'lt', value: '2025-03-05T00:00:00Z' }]), ids('yeti'));
    same(await find([{ field: 'date', op: 'lte', value: '2025-03-05T00:00:00Z' }]), ids('yeti', 'cozy'));
    same(
      await find([
        { field: 'date', op: 'gte', value: '2025-03-02T00:00:00Z' },
        { field: 'date', op: 'lt', value: '2025-03-12T00:00:00Z' },
      ]),
      ids('cozy', 'apt'),
    );
  });

  it('compares createdAt with ISO timestamps', async () => {
    same(
      await find([{ field: 'createdAt', op: 'gte', value: ev.cozy.createdAt }]),
      ids('cozy', 'apt', 'aptx'),
    );
    same(await find([{ field: 'createdAt', op: 'lt', value: ev.cozy.createdAt }]), ids('yeti'));
    same(await find([{ field: 'createdAt', op: 'gt', value: ev.apt.createdAt }]), ids('aptx'));
    same(
      await find([{ field: 'createdAt', op: 'lte', value: ev.apt.createdAt }]),
      ids('yeti', 'cozy', 'apt'),
    );
  });

  it('refuses a value that is not a date', async () => {
    const res = await account.call(
      'GET',
      `/events?${dotted([{ field: 'date', op: 'gt', value: 'yesterday' }])}`,
    );
    expect(res.status).toBe(400);
    expect(res.body.errors[0]?.message).toMatch(/search\[0\]\.value/);
  });
});

describe('GET /events list fields', () => {
  it('tags: equals and in mean "has the element", not means "has no such element"', async () => {
    same(await find([{ field: 'tags', op: 'equals', value: 'finance' }]), ids('yeti'));
    same(await find([{ field: 'tags', op: 'in', value: ['phishing', 'malware'] }]), ids('yeti', 'apt'));
    same(await find([{ field: 'tags', op: 'not', value: 'phishing' }]), ids('cozy', 'apt', 'aptx'));
    same(await find([{ field: 'tags', op: 'contains', value: 'CRED' }]), ids('cozy'));
  });

  it('mitreAttack and mitreCapec set at create are searchable the same way', async () => {
    same(await find([{ field: 'mitreAttack', op: 'equals', value: 'T1566' }]), ids('yeti', 'cozy'));
    same(await find([{ field: 'mitreAttack', op: 'in', value: ['T1078', 'T9999'] }]), ids('cozy'));
    same(await find([{ field: 'mitreAttack', op: 'not', value: 'T1566' }]), ids('apt', 'aptx'));
    same(await find([{ field: 'mitreCapec', op: 'equals', value: 'CAPEC-98' }]), ids('cozy'));
    same(await find([{ field: 'mitreCapec', op: 'not', value: 'CAPEC-98' }]), ids('yeti', 'apt', 'aptx'));
  });
});

describe('GET /events numeric and boolean fields', () => {
  it('compares killChain numerically', async () => {
    same(await find([{ field: 'killChain', op: 'gt', value: 3 }]), ids('cozy', 'apt'));
    same(await find([{ field: 'killChain', op: 'gte', value: '3' }]), ids('yeti', 'cozy', 'apt'));
    same(await find([{ field: 'killChain', op: 'lt', value: 5 }]), ids('yeti', 'aptx'));
    same(await find([{ field: 'killChain', op: 'lte', value: 0 }]), ids('aptx'));
    same(await find([{ field: 'killChain', op: 'equals', value: '5' }]), ids('cozy'));
    same(await find([{ field: 'killChain', op: 'not', value: 5 }]), ids('yeti', 'apt', 'aptx'));
    same(await find([{ field: 'killChain', op: 'in', value: [0, 7] }]), ids('apt', 'aptx'));
  });

  it('filters on hasChildren', async () => {
    same(await find([{ field: 'hasChildren', op: 'equals', value: false }]), all);
    same(await find([{ field: 'hasChildren', op: 'equals', value: true }]), []);
    same(await find([{ field: 'hasChildren', op: 'not', value: true }]), all);
  });

  it('refuses a killChain that is not a number and ops it does not support', async () => {
    for (const c of [
      { field: 'killChain', op: 'equals', value: 'seven' },
      { field: 'killChain', op: 'contains', value: '7' },
      { field: 'hasChildren', op: 'equals', value: 'maybe' },
    ]) {
      const res = await account.call('GET', `/events?${dotted([c])}`);
      expect(res.status, JSON.stringify(c)).toBe(400);
    }
  });
});

describe('GET /events indicator filters', () => {
  it('match any of the indicators of an event', async () => {
    same(await find([{ field: 'indicator', op: 'equals', value: 'harvest.example' }]), ids('cozy'));
    same(await find([{ field: 'indicator', op: 'equals', value: '203.0.113.7' }]), ids('cozy'));
    same(
      await find([{ field: 'indicator', op: 'in', value: ['bank-login.example', '198.51.100.1'] }]),
      ids('yeti', 'aptx'),
    );
    same(await find([{ field: 'indicator', op: 'contains', value: '.example' }]), ids('yeti', 'cozy'));
    same(
      await find([{ field: 'indicator', op: 'not', value: 'harvest.example' }]),
      ids('yeti', 'apt', 'aptx'),
    );
  });

  it('finds an indicator by the spelling it was created with', async () => {
    // Its own account, so the shared fixture stays as it is.
    const own = await t.account();
    const mixed = await create(
      own,
      makeEvent({ indicator: 'Login-Portal.Example.', indicatorType: 'Domain' }),
    );
    const find = (conditions: Cond[]) => uuidsFor(own, conditions);
    expect(mixed.indicator).toBe('login-portal.example');
    for (const value of ['Login-Portal.Example.', 'Login-Portal.Example', 'login-portal.example']) {
      same(await find([{ field: 'indicator', op: 'equals', value }]), [mixed.uuid]);
      same(await find([{ field: 'indicator', op: 'in', value: [value, '192.0.2.99'] }]), [mixed.uuid]);
      expect(await find([{ field: 'indicator', op: 'not', value }])).not.toContain(mixed.uuid);
    }
    const res = await own.call('PATCH', `/events/${mixed.uuid}`, {
      datasetId: mixed.datasetId,
      indicator: 'gone.example',
    });
    expect(res.status).toBe(200);
    same(await find([{ field: 'indicator', op: 'equals', value: 'Login-Portal.Example' }]), []);
  });

  it('indicatorType matches any indicator of that type, whatever the case', async () => {
    same(await find([{ field: 'indicatorType', op: 'equals', value: 'ip' }]), ids('cozy', 'aptx'));
    same(await find([{ field: 'indicatorType', op: 'equals', value: 'IP' }]), ids('cozy', 'aptx'));
    same(await find([{ field: 'indicatorType', op: 'equals', value: 'sha256' }]), ids('apt'));
    same(
      await find([{ field: 'indicatorType', op: 'in', value: ['sha256', 'domain'] }]),
      ids('yeti', 'cozy', 'apt'),
    );
  });
});

describe('GET /events conditions combine', () => {
  it('ANDs several conditions of different families', async () => {
    same(
      await find([
        { field: 'attackerCountry', op: 'equals', value: 'RU' },
        { field: 'tags', op: 'equals', value: 'credential-theft' },
        { field: 'killChain', op: 'gte', value: 5 },
      ]),
      ids('cozy'),
    );
    same(
      await find([
        { field: 'tags', op: 'equals', value: 'phishing' },
        { field: 'attacker', op: 'equals', value: 'Cozy Bear' },
      ]),
      [],
    );
  });
});

describe('GET /events query spellings', () => {
  it('reads the SDK dotted form, with op before field and repeated values for in', async () => {
    const body = await list(
      account,
      'search.op=equals&search.field=attackerCountry&search.value=RU' +
        '&search.field=tags&search.op=in&search.value=phishing&search.value=malware',
    );
    same(
      body.result.map((e: { uuid: string }) => e.uuid),
      ids('yeti'),
    );
  });

  it('reads a JSON array in one search parameter', async () => {
    const search = JSON.stringify([
      { field: 'attacker', op: 'in', value: ['APT_28', 'APTX28'] },
      { field: 'killChain', op: 'gt', value: 1 },
    ]);
    const body = await list(account, `search=${encodeURIComponent(search)}`);
    same(
      body.result.map((e: { uuid: string }) => e.uuid),
      ids('apt'),
    );
  });

  it('reads the SDK URL with a value containing spaces and commas', async () => {
    const body = await list(account, 'search.field=attacker&search.op=equals&search.value=Flying%20Yeti');
    same(
      body.result.map((e: { uuid: string }) => e.uuid),
      ids('yeti'),
    );
  });

  it('reads datasetId as repeated keys and as a comma list', async () => {
    const make = async (name: string) => {
      const res = await account.call('POST', '/events/dataset/create', { name, isPublic: false });
      expect(res.status).toBe(200);
      return res.body.result.uuid as string;
    };
    const a = await make('spellings A');
    const b = await make('spellings B');
    const inA = await create(account, makeEvent({ datasetId: a }));
    const inB = await create(account, makeEvent({ datasetId: b }));
    for (const q of [`datasetId=${a},${b}`, `datasetId=${a}&datasetId=${b}`]) {
      const body = await list(account, q);
      same(
        body.result.map((e: { uuid: string }) => e.uuid),
        [inA.uuid, inB.uuid],
      );
      expect(body.result_info.total_count).toBe(2);
    }
    const single = await list(account, `datasetId=${b}`);
    expect(single.result.map((e: { uuid: string }) => e.uuid)).toEqual([inB.uuid]);
  });
});

describe('GET /events refuses bad conditions', () => {
  it('answers 400 for an unknown field or op, naming it', async () => {
    const field = await account.call('GET', '/events?search.field=colour&search.op=equals&search.value=x');
    expect(field.status).toBe(400);
    expect(field.body.errors[0]?.message).toMatch(/colour/);
    const op = await account.call('GET', '/events?search.field=attacker&search.op=resembles&search.value=x');
    expect(op.status).toBe(400);
    expect(op.body.errors[0]?.message).toMatch(/resembles/);
  });

  it('lists every bad condition, not only the first', async () => {
    const res = await account.call(
      'GET',
      `/events?${dotted([
        { field: 'colour', op: 'equals', value: 'x' },
        { field: 'attacker', op: 'resembles', value: 'x' },
      ])}`,
    );
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/^search\[0\]\.field/),
      expect.stringMatching(/^search\[1\]\.op/),
    ]);
  });

  it('answers 400 to a find without any word, on every field family', async () => {
    for (const field of ['event', 'indicator', 'attacker', 'tags']) {
      for (const value of ['!!!', '*', '"', '...', '   ']) {
        const res = await account.call('GET', `/events?${dotted([{ field, op: 'find', value }])}`);
        expect(res.status, `${field} ${JSON.stringify(value)}`).toBe(400);
        expect(res.body.errors[0]?.message).toMatch(/^search\[0\]\.value: .*word/);
      }
    }
    // Punctuation next to a word is fine.
    same(await find([{ field: 'event', op: 'find', value: '"lazarus"!' }]), ids('apt'));
  });

  it('refuses impossible dates instead of rolling them over', async () => {
    for (const value of ['2025-02-30', '2025-04-31T00:00:00Z', '2025-03-01T24:00:00Z', '2025-13-01']) {
      const res = await account.call('GET', `/events?${dotted([{ field: 'date', op: 'gt', value }])}`);
      expect(res.status, value).toBe(400);
    }
  });

  it('takes up to 20 conditions', async () => {
    const conditions = (n: number): Cond[] =>
      Array.from({ length: n }, () => ({ field: 'attacker', op: 'not', value: 'nobody' }));
    same(await find(conditions(20)), all);
    const res = await account.call('GET', `/events?${dotted(conditions(21))}`);
    expect(res.status).toBe(400);
    expect(res.body.errors[0]?.message).toMatch(/20/);
  });

  it('answers 400 for malformed JSON in search', async () => {
    const res = await account.call('GET', `/events?search=${encodeURIComponent('[{"field":')}`);
    expect(res.status).toBe(400);
  });
});
