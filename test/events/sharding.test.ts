import { beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, makeTestApp, type TestAccount } from '../helpers.ts';
import { type Cond, dotted, list, sortByKey, walkCursor } from './support.ts';

const SHARD_MAX = 7;
const COUNT = 50;
const sharded = makeTestApp({ shardMaxEvents: SHARD_MAX });
const plain = makeTestApp();
let account: TestAccount;
let plainAccount: TestAccount;

/** What a test knows of an ingested event: its input and where the API said it went. */
interface Ingested {
  uuid: string;
  shardId: string;
  datasetId: string;
  date: string;
  attacker: string;
  event: string;
  killChain: number;
  tags: string[];
}
let ingested: Ingested[] = [];
let defaultDatasetId: string;

const ATTACKERS = ['Ember Bear', 'Sandworm', 'Turla', 'Gamaredon', 'Kimsuky'];

function items(count: number, offset: number) {
  return Array.from({ length: count }, (_, i) => {
    const n = i + offset;
    return makeEvent({
      // Nine distinct dates for fifty events: most dates are shared across shards.
      date: new Date(Date.UTC(2025, 1, 1, n % 9)).toISOString(),
      attacker: ATTACKERS[n % ATTACKERS.length],
      event: `Sharded event ${String(n).padStart(3, '0')}`,
      killChain: n % 6,
      tags: [`t${n % 4}`, ...(n % 10 === 0 ? ['tenth'] : [])],
    });
  });
}

async function bulk(
  who: TestAccount,
  datasetId: string,
  data: Record<string, unknown>[],
): Promise<Ingested[]> {
  const res = await who.call('POST', '/events/create/bulk', { datasetId, data, includeCreatedEvents: true });
  expect(res.status).toBe(202);
  expect(res.body.result.errorCount).toBe(0);
  return (res.body.result.createdEvents as { eventIndex: number; uuid: string; shardId: string }[]).map(
    (c) => {
      const input = data[c.eventIndex] as Record<string, unknown>;
      return {
        uuid: c.uuid,
        shardId: c.shardId,
        datasetId,
        date: new Date(input.date as string).toISOString(),
        attacker: input.attacker as string,
        event: input.event as string,
        killChain: input.killChain as number,
        tags: input.tags as string[],
      };
    },
  );
}

async function defaultDataset(who: TestAccount): Promise<string> {
  const res = await who.call('GET', '/events/dataset');
  const found = (res.body.result as { name: string; uuid: string }[]).find(
    (d) => d.name === 'Cloudforce One Threat Events',
  );
  if (!found) throw new Error('no default dataset');
  return found.uuid;
}

const uuids = (body: { result: { uuid: string }[] }) => body.result.map((e) => e.uuid);
const matches = (e: Ingested, c: Cond): boolean => {
  if (c.field === 'tags') return e.tags.includes(c.value as string);
  if (c.field === 'killChain' && c.op === 'gt') return e.killChain > Number(c.value);
  if (c.field === 'attacker' && c.op === 'in') return (c.value as string[]).includes(e.attacker);
  throw new Error(`no local matcher for ${JSON.stringify(c)}`);
};

beforeAll(async () => {
  account = await sharded.account();
  plainAccount = await plain.account();
  defaultDatasetId = await defaultDataset(account);
  const data = items(COUNT, 0);
  ingested = await bulk(account, defaultDatasetId, data);
  await bulk(plainAccount, await defaultDataset(plainAccount), data);
});

describe('sharded storage', () => {
  it('spreads one bulk over several shards, none fuller than the limit', () => {
    const perShard = new Map<string, number>();
    for (const e of ingested) perShard.set(e.shardId, (perShard.get(e.shardId) ?? 0) + 1);
    expect(perShard.size).toBe(Math.ceil(COUNT / SHARD_MAX));
    for (const n of perShard.values()) expect(n).toBeLessThanOrEqual(SHARD_MAX);
    expect(ingested.map((e) => e.uuid).sort()).toEqual([...new Set(ingested.map((e) => e.uuid))].sort());
  });

  it('lists every event once, in order, with the exact total', async () => {
    const body = await list(account, 'pageSize=1000');
    expect(body.result_info.total_count).toBe(COUNT);
    expect(uuids(body)).toEqual(sortByKey(ingested, (e) => e.date, 'desc').map((e) => e.uuid));
  });

  for (const [field, order] of [
    ['date', 'asc'],
    ['date', 'desc'],
    ['attacker', 'asc'],
    ['killChain', 'desc'],
    ['createdAt', 'asc'],
    ['uuid', 'desc'],
  ] as const) {
    it(`pages by offset and by cursor across shards: ${field} ${order}`, async () => {
      const key = (e: Ingested): string | number => (field === 'createdAt' ? 0 : e[field]);
      const expected = sortByKey(ingested, key, order).map((e) => e.uuid);
      expect(await walkCursor(account, `orderBy=${field}&order=${order}`, 6)).toEqual(expected);
      for (const page of [1, 4, 9]) {
        const body = await list(account, `orderBy=${field}&order=${order}&pageSize=6&page=${page}`);
        expect(uuids(body)).toEqual(expected.slice((page - 1) * 6, page * 6));
        expect(body.result_info.total_count).toBe(COUNT);
        expect(body.result_info.cursor !== undefined).toBe(page * 6 < COUNT);
      }
    });
  }

  for (const c of [
    { field: 'tags', op: 'equals', value: 't1' },
    { field: 'tags', op: 'equals', value: 'tenth' },
    { field: 'killChain', op: 'gt', value: 3 },
    { field: 'attacker', op: 'in', value: ['Turla', 'Kimsuky'] },
  ] satisfies Cond[]) {
    it(`filters across shards: ${c.field} ${c.op} ${String(c.value)}`, async () => {
      const wanted = ingested.filter((e) => matches(e, c));
      expect(wanted.length).toBeGreaterThan(0);
      for (const order of ['asc', 'desc'] as const) {
        const expected = sortByKey(wanted, (e) => e.date, order).map((e) => e.uuid);
        const body = await list(account, `${dotted([c])}&order=${order}&pageSize=1000`);
        expect(uuids(body)).toEqual(expected);
        expect(body.result_info.total_count).toBe(wanted.length);
        expect(await walkCursor(account, `${dotted([c])}&order=${order}`, 4)).toEqual(expected);
      }
    });
  }

  it('answers the same pages, totals and cursors as an unsharded store', async () => {
    // Events are unique by their text, so both stores must give the very same sequence.
    for (const query of [
      'orderBy=event&order=asc',
      `orderBy=event&order=desc&${dotted([{ field: 'tags', op: 'equals', value: 't2' }])}`,
      `orderBy=event&order=asc&${dotted([{ field: 'killChain', op: 'lte', value: 2 }])}`,
    ]) {
      let a = await list(account, `${query}&pageSize=8`);
      let b = await list(plainAccount, `${query}&pageSize=8`);
      for (;;) {
        expect(a.result.map((e: { event: string }) => e.event)).toEqual(
          b.result.map((e: { event: string }) => e.event),
        );
        const { cursor: ca, ...infoA } = a.result_info;
        const { cursor: cb, ...infoB } = b.result_info;
        expect(infoA).toEqual(infoB);
        expect(ca === undefined).toBe(cb === undefined);
        if (ca === undefined || cb === undefined) break;
        a = await list(account, `cursor=${encodeURIComponent(ca)}&pageSize=8`);
        b = await list(plainAccount, `cursor=${encodeURIComponent(cb)}&pageSize=8`);
      }
    }
  });

  it('finds, edits and reads back an event in any shard', async () => {
    const middle = ingested[Math.floor(COUNT / 2)] as Ingested;
    const got = await account.call('GET', `/events/${middle.uuid}`);
    expect(got.status).toBe(200);
    expect(got.body.result.event).toBe(middle.event);
    const edited = await account.call('PATCH', `/events/${middle.uuid}`, {
      datasetId: defaultDatasetId,
      attacker: 'Renamed In Shard',
    });
    expect(edited.status).toBe(200);
    const found = await list(
      account,
      dotted([{ field: 'attacker', op: 'equals', value: 'Renamed In Shard' }]),
    );
    expect(uuids(found)).toEqual([middle.uuid]);
    await account.call('PATCH', `/events/${middle.uuid}`, {
      datasetId: defaultDatasetId,
      attacker: middle.attacker,
    });
  });
});

describe('concurrent writers', () => {
  it('fill shards to the limit and no further, losing nothing', async () => {
    const owner = await sharded.account();
    const datasetId = await defaultDataset(owner);
    const batches = await Promise.all(
      Array.from({ length: 6 }, (_, i) => bulk(owner, datasetId, items(9, 1000 + i * 9))),
    );
    const singles = await Promise.all(
      Array.from({ length: 5 }, () => owner.call('POST', '/events/create', makeEvent())),
    );
    const perShard = new Map<string, number>();
    for (const e of batches.flat()) perShard.set(e.shardId, (perShard.get(e.shardId) ?? 0) + 1);
    for (const n of perShard.values()) expect(n).toBeLessThanOrEqual(SHARD_MAX);
    const body = await list(owner, 'pageSize=1000');
    expect(body.result_info.total_count).toBe(6 * 9 + 5);
    const expected = [
      ...batches.flat().map((e) => e.uuid),
      ...singles.map((r) => r.body.result.uuid as string),
    ];
    expect(uuids(body).sort()).toEqual(expected.sort());
  });
});

describe('text order across shards', () => {
  it('matches one shard’s order for any characters, so cursor walks lose nothing', async () => {
    const names = [
      '😀 smile',
      '｡ halfwidth',
      'a plain',
      '😀 smile 2',
      '｡ halfwidth 2',
      'z plain',
      'Ünïcode',
      '中文',
    ];
    const data = names.map((attacker) => makeEvent({ attacker }));
    const owner = await sharded.account();
    const single = await plain.account();
    const stored = await bulk(owner, await defaultDataset(owner), data);
    expect(new Set(stored.map((e) => e.shardId)).size).toBeGreaterThan(1);
    await bulk(single, await defaultDataset(single), data);
    for (const order of ['asc', 'desc']) {
      const attackers = async (who: TestAccount) =>
        (await list(who, `orderBy=attacker&order=${order}&pageSize=100`)).result.map(
          (e: { attacker: string }) => e.attacker,
        );
      const expected = await attackers(single);
      expect(await attackers(owner)).toEqual(expected);
      const walked = await walkCursor(owner, `orderBy=attacker&order=${order}`, 2);
      const byUuid = new Map(stored.map((e) => [e.uuid, e.attacker]));
      expect(walked.map((u) => byUuid.get(u))).toEqual(expected);
    }
  });
});

describe('several sharded datasets', () => {
  it('lists datasetId=all and a list of datasets across every shard of each', async () => {
    const other = await sharded.account();
    const home = await bulk(other, await defaultDataset(other), items(9, 100));
    const extra: Ingested[][] = [];
    for (const name of ['feed one', 'feed two']) {
      const res = await other.call('POST', '/events/dataset/create', { name, isPublic: false });
      expect(res.status).toBe(200);
      extra.push(await bulk(other, res.body.result.uuid, items(15, 200 + extra.length * 15)));
    }
    const [one, two] = extra as [Ingested[], Ingested[]];
    expect(new Set(one.map((e) => e.shardId)).size).toBeGreaterThan(1);
    const everything = [...home, ...one, ...two];

    const all = await list(other, 'datasetId=all&orderBy=date&order=asc&pageSize=1000');
    expect(all.result_info.total_count).toBe(everything.length);
    expect(uuids(all)).toEqual(sortByKey(everything, (e) => e.date, 'asc').map((e) => e.uuid));
    const datasetOf = new Map(everything.map((e) => [e.uuid, e.datasetId]));
    for (const e of all.result as { uuid: string; datasetId: string }[]) {
      expect(e.datasetId).toBe(datasetOf.get(e.uuid));
    }
    expect(await walkCursor(other, 'datasetId=all&orderBy=attacker&order=desc', 7)).toEqual(
      sortByKey(everything, (e) => e.attacker, 'desc').map((e) => e.uuid),
    );

    const both = [...one, ...two];
    const pair = await list(other, `datasetId=${one[0]?.datasetId},${two[0]?.datasetId}&pageSize=1000`);
    expect(pair.result_info.total_count).toBe(both.length);
    expect(uuids(pair)).toEqual(sortByKey(both, (e) => e.date, 'desc').map((e) => e.uuid));

    // Without datasetId only the default dataset is listed.
    const home2 = await list(other, 'pageSize=1000');
    expect(uuids(home2).sort()).toEqual(home.map((e) => e.uuid).sort());
  });
});

describe('a bulk request never straddles two shards', () => {
  it('goes whole into a new shard when the newest has too little room left', async () => {
    const owner = await sharded.account();
    const datasetId = await defaultDataset(owner);
    const first = await bulk(owner, datasetId, items(5, 2000));
    const second = await bulk(owner, datasetId, items(4, 2005));
    expect(new Set(first.map((e) => e.shardId)).size).toBe(1);
    expect(new Set(second.map((e) => e.shardId)).size).toBe(1);
    expect(second[0]?.shardId).not.toBe(first[0]?.shardId);
    // A request that fits still goes into the newest shard.
    const third = await bulk(owner, datasetId, items(3, 2009));
    expect(third[0]?.shardId).toBe(second[0]?.shardId);
    expect((await list(owner, 'pageSize=100')).result_info.total_count).toBe(12);
  });

  it('keeps each of many concurrent requests in one shard (group commit), losing nothing', async () => {
    const owner = await sharded.account();
    const datasetId = await defaultDataset(owner);
    const batches = await Promise.all(
      Array.from({ length: 12 }, (_, i) => bulk(owner, datasetId, items(3, 3000 + i * 3))),
    );
    const perShard = new Map<string, number>();
    for (const batch of batches) {
      expect(new Set(batch.map((e) => e.shardId)).size).toBe(1);
      const shardId = batch[0]?.shardId as string;
      perShard.set(shardId, (perShard.get(shardId) ?? 0) + batch.length);
    }
    for (const n of perShard.values()) expect(n).toBe(6);
    const body = await list(owner, 'pageSize=1000');
    expect(body.result_info.total_count).toBe(36);
    expect(uuids(body).sort()).toEqual(
      batches
        .flat()
        .map((e) => e.uuid)
        .sort(),
    );
  });

  it('splits only a request larger than a whole shard', async () => {
    const owner = await sharded.account();
    const datasetId = await defaultDataset(owner);
    const big = await bulk(owner, datasetId, items(SHARD_MAX * 2 + 1, 4000));
    const perShard = new Map<string, number>();
    for (const e of big) perShard.set(e.shardId, (perShard.get(e.shardId) ?? 0) + 1);
    expect([...perShard.values()]).toEqual([SHARD_MAX, SHARD_MAX, 1]);
  });
});
