import { getIntrospectionQuery } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestAccount } from '../helpers.ts';
import {
  type AggRow,
  aggregate,
  bulkCreate,
  countByHand,
  createDataset,
  DIMENSIONS,
  type ListedEvent,
  listAll,
  type Question,
  restQuery,
  variedEvents,
} from './support.ts';

const t = makeTestApp({ shardMaxEvents: 9 });
let account: TestAccount;
let main: string;
let second: string;
let events: ListedEvent[];
let secondEvents: ListedEvent[];

beforeAll(async () => {
  account = await t.account();
  main = await createDataset(account, 'Main');
  second = await createDataset(account, 'Second');
  await bulkCreate(account, main, variedEvents(40, 600));
  await bulkCreate(account, second, variedEvents(15, 700));
  events = await listAll(account, [main]);
  secondEvents = await listAll(account, [second]);
});

const PATHS = ['/v2/events/graphql', '/events/graphql'] as const;

interface GqlAnswer {
  status: number;
  success: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: GraphQL data has the shape of the query
  data: any;
  errors: { message: string }[] | undefined;
  envelopeErrors: { code: number; message: string }[];
}

async function gql(
  query: string,
  variables?: Record<string, unknown>,
  options: { path?: string; token?: string | null; who?: TestAccount; operationName?: string } = {},
): Promise<GqlAnswer> {
  const who = options.who ?? account;
  const body: Record<string, unknown> = { query };
  if (variables) body.variables = variables;
  if (options.operationName) body.operationName = options.operationName;
  const res = await who.call('POST', options.path ?? '/events/graphql', body, {
    ...(options.token !== undefined ? { token: options.token } : {}),
  });
  return {
    status: res.status,
    success: res.body.success,
    data: res.body.result?.data,
    errors: res.body.result?.errors,
    envelopeErrors: res.body.errors,
  };
}

/** The GraphQL arguments of a question. */
function gqlArgs(q: Question, datasetIds: readonly string[], filters?: string): string {
  const args = [`groupBy: [${q.by.join(', ')}]`, `datasetIds: ${JSON.stringify(datasetIds)}`];
  if (q.interval) args.push(`interval: ${q.interval}`);
  if (q.startMs !== undefined) args.push(`startDate: "${new Date(q.startMs).toISOString()}"`);
  if (q.endMs !== undefined) args.push(`endDate: "${new Date(q.endMs).toISOString()}"`);
  if (q.limit !== undefined) args.push(`limit: ${q.limit}`);
  if (filters) args.push(`filters: ${filters}`);
  return args.join(', ');
}

/** GraphQL groups as E12 rows: count, the grouped columns, and date when bucketed. */
function asRows(groups: Record<string, unknown>[], q: Question): AggRow[] {
  return groups.map((g) => {
    const row: AggRow = { count: g.count as number };
    for (const col of q.by) row[col] = g[col] as string | number | null;
    if (q.interval) row.date = g.date as string;
    else expect(g.date).toBeNull();
    return row;
  });
}

interface Same {
  q: Question;
  datasets: () => string[];
  filters?: { gql: string; rest: unknown[] };
  /** Bound the question by the dates of the 9th and 31st events of main. */
  range?: true;
}
const SAME_QUESTIONS: Same[] = [
  { q: { by: ['attacker'] }, datasets: () => [main] },
  { q: { by: ['tags', 'mitreAttack'] }, datasets: () => [main] },
  { q: { by: ['attacker', 'targetIndustry'], interval: 'week', limit: 7 }, datasets: () => [main, second] },
  { q: { by: ['tlp', 'killChain'], interval: 'month' }, datasets: () => [main, second] },
  {
    q: { by: ['category', 'indicatorType', 'targetCountry'], interval: 'day', limit: 3 },
    datasets: () => [second],
  },
  {
    q: { by: ['attacker', 'tags'] },
    datasets: () => [main, second],
    filters: {
      gql: '[{field: "tags", op: "in", value: ["botnet", "c2"]}, {field: "tlp", op: "not", value: ["red"]}]',
      rest: [
        { field: 'tags', op: 'in', value: ['botnet', 'c2'] },
        { field: 'tlp', op: 'not', value: 'red' },
      ],
    },
  },
  {
    q: { by: ['targetIndustry'], interval: 'week' },
    datasets: () => [main],
    filters: {
      gql: '[{field: "killChain", op: "gt", value: ["2"]}]',
      rest: [{ field: 'killChain', op: 'gt', value: 2 }],
    },
  },
  { q: { by: ['attacker', 'tags'], interval: 'day' }, datasets: () => [main, second], range: true },
];

describe('GraphQL (E13/E14) answers what GET /events/aggregate answers', () => {
  for (const path of PATHS) {
    it(`${path}: several questions, the same numbers`, async () => {
      const dates = events.map((e) => Date.parse(e.date)).sort((a, b) => a - b);
      for (const { q: asked, datasets, filters, range } of SAME_QUESTIONS) {
        const q: Question = range ? { ...asked, startMs: dates[8], endMs: dates[30] } : asked;
        const label = JSON.stringify(q);
        const search = filters ? `&search=${encodeURIComponent(JSON.stringify(filters.rest))}` : '';
        const rest = await aggregate(account, restQuery(q, datasets(), search));
        const cols = [...q.by, 'date', 'count'].join(' ');
        const answer = await gql(
          `{ aggregate(${gqlArgs(q, datasets(), filters?.gql)}) { total groupCount startDate endDate groups { ${cols} } } }`,
          undefined,
          { path },
        );
        expect(answer.status, `${label} ${JSON.stringify(answer.errors)}`).toBe(200);
        expect(answer.errors).toBeUndefined();
        expect(answer.success).toBe(true);
        const agg = answer.data.aggregate;
        expect(asRows(agg.groups, q), label).toEqual(rest.aggregations);
        expect(agg.total, label).toBe(rest.total);
        expect(agg.groupCount, label).toBe(rest.groupCount);
        expect(agg.startDate ?? undefined).toBe(rest.dateRange.startDate);
        expect(agg.endDate ?? undefined).toBe(rest.dateRange.endDate);
        if (!filters) {
          const all = datasets().flatMap((d) => (d === main ? events : secondEvents));
          expect(asRows(agg.groups, q), label).toEqual(countByHand(all, q).rows);
        }
      }
    });
  }

  it('without datasetIds reads the default dataset, like E12', async () => {
    const rest = await aggregate(account, 'aggregateBy=attacker');
    const answer = await gql('{ aggregate(groupBy: [attacker]) { total groups { attacker count } } }');
    expect(answer.data.aggregate.total).toBe(rest.total);
    expect(answer.data.aggregate.groups).toEqual(rest.aggregations);
  });

  it('answers several aggregates at once under aliases', async () => {
    const answer = await gql(`{
      byAttacker: aggregate(groupBy: [attacker], datasetIds: ["${main}"]) { total groups { attacker count } }
      byTag: aggregate(groupBy: [tags], datasetIds: ["${main}", "${second}"], limit: 2) { total groupCount groups { tags count } }
      weekly: aggregate(groupBy: [tlp], datasetIds: ["${second}"], interval: week) { groups { tlp date count } }
      dimensions
    }`);
    expect(answer.status).toBe(200);
    const d = answer.data;
    expect(d.byAttacker.groups).toEqual(countByHand(events, { by: ['attacker'] }).rows);
    expect(d.byAttacker.total).toBe(events.length);
    const byTag = countByHand([...events, ...secondEvents], { by: ['tags'], limit: 2 });
    expect(d.byTag.groups).toEqual(byTag.rows);
    expect(d.byTag.groupCount).toBe(byTag.groupCount);
    expect(d.byTag.total).toBe(events.length + secondEvents.length);
    expect(d.weekly.groups).toEqual(countByHand(secondEvents, { by: ['tlp'], interval: 'week' }).rows);
    expect(d.dimensions).toEqual([...DIMENSIONS]);
  });

  it('values lists the grouped dimensions in order, as text', async () => {
    const answer = await gql(
      `{ aggregate(groupBy: [killChain, tags], datasetIds: ["${main}"]) { groups { count values { dimension value } } } }`,
    );
    const want = countByHand(events, { by: ['killChain', 'tags'] }).rows;
    expect(answer.data.aggregate.groups).toEqual(
      want.map((r) => ({
        count: r.count,
        values: [
          { dimension: 'killChain', value: String(r.killChain) },
          { dimension: 'tags', value: r.tags === null ? null : r.tags },
        ],
      })),
    );
  });

  it('takes variables', async () => {
    const query = `query Top($by: [Dimension!]!, $ds: [String!], $interval: Interval, $limit: Int, $from: String, $to: String) {
      aggregate(groupBy: $by, datasetIds: $ds, interval: $interval, limit: $limit, startDate: $from, endDate: $to) {
        total groups { attacker tags date count }
      }
    }`;
    const from = '2025-01-01';
    const to = '2025-02-15';
    const answer = await gql(query, {
      by: ['attacker', 'tags'],
      ds: [main, second],
      interval: 'week',
      limit: 5,
      from,
      to,
    });
    expect(answer.status, JSON.stringify(answer.errors)).toBe(200);
    const q: Question = {
      by: ['attacker', 'tags'],
      interval: 'week',
      limit: 5,
      startMs: Date.parse(from),
      endMs: Date.parse(to) + 86_400_000 - 1,
    };
    const want = countByHand([...events, ...secondEvents], q);
    expect(asRows(answer.data.aggregate.groups, q)).toEqual(want.rows);
    expect(answer.data.aggregate.total).toBe(want.total);
  });

  it('picks the operation named by operationName', async () => {
    const query = `query A { dimensions } query B { aggregate(groupBy: [tlp], datasetIds: ["${main}"]) { total } }`;
    const answer = await gql(query, undefined, { operationName: 'B' });
    expect(answer.status).toBe(200);
    expect(answer.data).toEqual({ aggregate: { total: events.length } });
  });

  it('answers introspection, including the query GraphQL tools send', async () => {
    const small = await gql('{ __schema { queryType { name } types { name } } }');
    expect(small.status).toBe(200);
    expect(small.data.__schema.queryType.name).toBe('Query');
    const names = small.data.__schema.types.map((x: { name: string }) => x.name);
    expect(names).toEqual(
      expect.arrayContaining(['Aggregation', 'Group', 'Dimension', 'Interval', 'Filter']),
    );
    const full = await gql(getIntrospectionQuery());
    expect(full.status, JSON.stringify(full.errors)).toBe(200);
    const dimension = full.data.__schema.types.find((x: { name: string }) => x.name === 'Dimension');
    expect(dimension.enumValues.map((v: { name: string }) => v.name)).toEqual([...DIMENSIONS]);
    const typename = await gql('{ __typename }');
    expect(typename.data).toEqual({ __typename: 'Query' });
  });

  it('read tokens may query; no token is 401', async () => {
    const read = await gql('{ dimensions }', undefined, { token: account.readToken });
    expect(read.status).toBe(200);
    for (const path of PATHS) {
      const none = await gql('{ dimensions }', undefined, { token: null, path });
      expect(none.status).toBe(401);
    }
  });
});

describe('GraphQL errors', () => {
  async function expectRefused(answer: GqlAnswer, status: number, message: RegExp): Promise<void> {
    expect(answer.status).toBe(status);
    expect(answer.success).toBe(false);
    expect(answer.data ?? null).toBeNull();
    expect(answer.errors?.length).toBeGreaterThan(0);
    expect(answer.errors?.map((e) => e.message).join('\n')).toMatch(message);
    expect(answer.envelopeErrors.map((e) => e.message).join('\n')).toMatch(message);
  }

  for (const path of PATHS) {
    it(`${path}: a syntax error is 400 with the GraphQL error`, async () => {
      await expectRefused(
        await gql('{ aggregate(groupBy: [attacker] { total }', undefined, { path }),
        400,
        /Syntax Error/,
      );
    });
  }

  it('an unknown field is 400', async () => {
    await expectRefused(await gql('{ aggregate(groupBy: [attacker]) { nope } }'), 400, /nope/);
    await expectRefused(await gql('{ nothing }'), 400, /nothing/);
  });

  it('an unknown enum value is 400, as a literal or a variable', async () => {
    await expectRefused(await gql('{ aggregate(groupBy: [victim]) { total } }'), 400, /victim/);
    await expectRefused(await gql('{ aggregate(groupBy: [tlp], interval: year) { total } }'), 400, /year/);
    await expectRefused(
      await gql('query($by: [Dimension!]!) { aggregate(groupBy: $by) { total } }', { by: ['victim'] }),
      400,
      /victim/,
    );
  });

  it('a missing required argument or variable is 400', async () => {
    await expectRefused(await gql('{ aggregate { total } }'), 400, /groupBy/);
    await expectRefused(
      await gql('query($by: [Dimension!]!) { aggregate(groupBy: $by) { total } }'),
      400,
      /\$by/,
    );
  });

  it('a bad date, an inverted range, a bad limit or an empty groupBy is 400 naming it', async () => {
    const cases: [string, RegExp][] = [
      ['groupBy: [tlp], startDate: "yesterday"', /startDate/],
      ['groupBy: [tlp], startDate: "2025-03-01", endDate: "2025-01-01"', /startDate: after endDate/],
      ['groupBy: [tlp], limit: 0', /limit/],
      ['groupBy: [tlp], limit: 100001', /limit/],
      ['groupBy: []', /aggregateBy|groupBy/],
      ['groupBy: [tlp, tlp]', /named twice/],
      ['groupBy: [tlp], filters: [{field: "nope", op: "equals", value: ["x"]}]', /nope/],
    ];
    for (const [args, message] of cases) {
      await expectRefused(await gql(`{ aggregate(${args}) { total } }`), 400, message);
    }
  });

  it("another account's dataset is 404", async () => {
    const other = await t.account();
    const answer = await gql(`{ aggregate(groupBy: [tlp], datasetIds: ["${main}"]) { total } }`, undefined, {
      who: other,
    });
    await expectRefused(answer, 404, /./);
  });

  for (const path of PATHS) {
    it(`${path}: no body at all (what the SDK sends) is 400 with a clear message`, async () => {
      const res = await account.call('POST', path);
      expect(res.status).toBe(400);
      expect(res.body.success).toBe(false);
      expect(res.body.errors[0]?.message).toMatch(/query is required/);
      expect(res.body.result.errors[0].message).toMatch(/query is required/);
    });
  }

  it('an empty object, a non-string query and malformed JSON are 400', async () => {
    for (const body of [{}, { query: 42 }, { query: '{ dimensions }', variables: 'x' }]) {
      const res = await account.call('POST', '/events/graphql', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.success).toBe(false);
    }
    const raw = await account.call('POST', '/events/graphql', undefined, { raw: '{"query": ' });
    expect(raw.status).toBe(400);
    expect(raw.body.errors[0]?.message).toMatch(/JSON/);
  });
});

describe('GraphQL limits', () => {
  it('refuses more than 10 aggregates in one query', async () => {
    const ok = Array.from({ length: 10 }, (_, i) => `a${i}: aggregate(groupBy: [tlp]) { total }`).join('\n');
    expect((await gql(`{ ${ok} }`)).status).toBe(200);
    const tooMany = Array.from({ length: 11 }, (_, i) => `a${i}: aggregate(groupBy: [tlp]) { total }`).join(
      '\n',
    );
    const answer = await gql(`{ ${tooMany} }`);
    expect(answer.status).toBe(400);
    expect(answer.errors?.map((e) => e.message).join()).toMatch(/more than 10 aggregates/);
    expect(answer.data ?? null).toBeNull();
  });

  it('refuses more than 300 fields', async () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `d${i}: dimensions`).join(' ');
    expect((await gql(`{ ${fields(300)} }`)).status).toBe(200);
    const answer = await gql(`{ ${fields(301)} }`);
    expect(answer.status).toBe(400);
    expect(answer.errors?.map((e) => e.message).join()).toMatch(/more than 300 fields/);
  });

  it('refuses a query nested too deep', async () => {
    let nested = 'name';
    for (let i = 0; i < 25; i++) nested = `ofType { ${nested} }`;
    const answer = await gql(`{ __schema { types { fields { type { ${nested} } } } } }`);
    expect(answer.status).toBe(400);
    expect(answer.errors?.map((e) => e.message).join()).toMatch(/nested deeper than/);
    const fragment = await gql(
      `{ __schema { types { ...T } } } fragment T on __Type { fields { type { ${nested} } } }`,
    );
    expect(fragment.status).toBe(400);
  });

  it('refuses a query longer than 100,000 characters', async () => {
    const answer = await gql(`{ dimensions ${' '.repeat(100_001)} }`);
    expect(answer.status).toBe(400);
  });
});
