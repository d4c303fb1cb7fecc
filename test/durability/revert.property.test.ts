/**
 * Property: a point-in-time revert (E11) brings a dataset back to exactly the state it had at
 * the target moment, whatever ran before it: creates, bulk creates with invalid items, edits,
 * tag changes, moves between two datasets, deletes by id and by search, and earlier reverts
 * (by time, by bookmark, and undone through their undoBookmark). Small shards, so every
 * sequence rolls over several of them. The expected state is not modelled: it is the listing
 * taken after each command, kept by time. After each revert the derived views (total_count,
 * E12 aggregates, tag and indicator search, the indicator list) must agree with that state.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countByHand, type ListedEvent } from '../analytics/support.ts';
import { makeTestApp, type TestAccount } from '../helpers.ts';

/** Fixed, so CI is repeatable; PROPERTY_SEED / PROPERTY_RUNS explore further by hand. */
const SEED = Number(process.env.PROPERTY_SEED ?? 20_260_115);
const NUM_RUNS = Number(process.env.PROPERTY_RUNS ?? 30);
const DAY = 86_400_000;

const ATTACKERS = ['Flying Yeti', 'Turla', 'Kimsuky', ''];
const TAGS = ['botnet', 'c2', 'phishing', 'malware', 'apt'];
const INDUSTRIES = ['Agriculture', 'Finance', 'Energy'];
const INDICATORS = [
  { indicatorType: 'domain', value: 'alpha.example' },
  { indicatorType: 'domain', value: 'beta.example' },
  { indicatorType: 'domain', value: 'gamma.example' },
  { indicatorType: 'ip', value: '198.51.100.7' },
  { indicatorType: 'ip', value: '203.0.113.9' },
  { indicatorType: 'domain', value: 'delta.example' },
  { indicatorType: 'domain', value: 'epsilon.example' },
  { indicatorType: 'ip', value: '192.0.2.44' },
  { indicatorType: 'url', value: 'https://zeta.example/gate.php' },
  { indicatorType: 'domain', value: 'eta.example' },
  { indicatorType: 'domain', value: 'theta.example' },
];
/** Clock steps between commands: several commands share a millisecond, others are minutes apart. */
const STEPS = [0, 0, 1, 15_000, 60_000, 150_000];

interface EventSpec {
  attacker: string;
  tags: string[];
  indicator: number;
  extra: number | null;
  industry: string;
  day: number;
  insight: string | null;
}

type Edit =
  | { field: 'attacker'; value: string }
  | { field: 'date'; value: number }
  | { field: 'insight'; value: string }
  | { field: 'targetIndustry'; value: string }
  | { field: 'indicator'; value: number };

/** Which dataset (0 or 1) and which of its events (index modulo the count). */
interface Pick {
  ds: 0 | 1;
  n: number;
}

type Command =
  | { kind: 'create'; ds: 0 | 1; event: EventSpec }
  | { kind: 'bulk'; ds: 0 | 1; items: (EventSpec | 'invalid')[] }
  | { kind: 'edit'; pick: Pick; edit: Edit }
  | { kind: 'addTags'; pick: Pick; tags: string[] }
  | { kind: 'removeTags'; pick: Pick; tags: string[] | null }
  | { kind: 'move'; from: 0 | 1; picks: number[] }
  | { kind: 'deleteIds'; ds: 0 | 1; picks: number[] }
  | { kind: 'deleteSearch'; ds: 0 | 1; tag: string }
  | { kind: 'bookmark'; ds: 0 | 1 }
  | { kind: 'revertAt'; ds: 0 | 1; snapshot: number; offset: 'exact' | 'before' | 'after' }
  | { kind: 'revertMinutes'; ds: 0 | 1; quarters: number }
  | { kind: 'revertBookmark'; ds: 0 | 1; n: number }
  | { kind: 'undo'; ds: 0 | 1 };

const dsArb = fc.constantFrom<0 | 1>(0, 1);
const eventArb: fc.Arbitrary<EventSpec> = fc.record({
  attacker: fc.constantFrom(...ATTACKERS),
  tags: fc.subarray(TAGS, { maxLength: 3 }),
  indicator: fc.nat(INDICATORS.length - 1),
  extra: fc.option(fc.nat(INDICATORS.length - 1), { nil: null }),
  industry: fc.constantFrom(...INDUSTRIES),
  day: fc.nat(40),
  insight: fc.option(fc.constantFrom('seen twice', 'sinkholed'), { nil: null }),
});
const pickArb: fc.Arbitrary<Pick> = fc.record({ ds: dsArb, n: fc.nat(1000) });
const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ field: fc.constant('attacker' as const), value: fc.constantFrom(...ATTACKERS) }),
  fc.record({ field: fc.constant('date' as const), value: fc.nat(40) }),
  fc.record({ field: fc.constant('insight' as const), value: fc.constantFrom('edited', 'reviewed') }),
  fc.record({ field: fc.constant('targetIndustry' as const), value: fc.constantFrom(...INDUSTRIES) }),
  fc.record({ field: fc.constant('indicator' as const), value: fc.nat(INDICATORS.length - 1) }),
);
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('create' as const), ds: dsArb, event: eventArb }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('bulk' as const),
      ds: dsArb,
      items: fc.array(fc.oneof({ weight: 4, arbitrary: eventArb }, fc.constant('invalid' as const)), {
        minLength: 1,
        maxLength: 6,
      }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('edit' as const), pick: pickArb, edit: editArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('addTags' as const),
      pick: pickArb,
      tags: fc.subarray(TAGS, { minLength: 1, maxLength: 2 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('removeTags' as const),
      pick: pickArb,
      tags: fc.option(fc.subarray(TAGS, { minLength: 1, maxLength: 2 }), { nil: null }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('move' as const),
      from: dsArb,
      picks: fc.array(fc.nat(1000), { minLength: 1, maxLength: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('deleteIds' as const),
      ds: dsArb,
      picks: fc.array(fc.nat(1000), { minLength: 1, maxLength: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deleteSearch' as const),
      ds: dsArb,
      tag: fc.constantFrom(...TAGS),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bookmark' as const), ds: dsArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('revertAt' as const),
      ds: dsArb,
      snapshot: fc.nat(1000),
      offset: fc.constantFrom('exact' as const, 'before' as const, 'after' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('revertMinutes' as const), ds: dsArb, quarters: fc.nat(60) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('revertBookmark' as const), ds: dsArb, n: fc.nat(1000) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('undo' as const), ds: dsArb }) },
);
const scenarioArb = fc.array(fc.record({ step: fc.constantFrom(...STEPS), command: commandArb }), {
  minLength: 5,
  maxLength: 40,
  size: 'max',
});

type Listing = ListedEvent[];
interface Snapshot {
  t: number;
  state: [Listing, Listing];
}

let counter = 0;
/** What the runs exercised, printed at the end (a property that never reverts proves nothing). */
const stats = { runs: 0, commands: 0, reverts: 0, effective: 0, changed: 0, maxEvents: 0 };

function body(spec: EventSpec, datasetId?: string): Record<string, unknown> {
  counter++;
  const first = INDICATORS[spec.indicator] as (typeof INDICATORS)[number];
  const out: Record<string, unknown> = {
    category: 'Malware',
    date: new Date(Date.UTC(2025, 0, 1) + spec.day * DAY).toISOString(),
    event: `Beacon ${counter}`,
    raw: { data: { n: counter }, source: 'feed' },
    tlp: 'amber',
    attacker: spec.attacker,
    attackerCountry: 'RU',
    indicator: first.value,
    indicatorType: first.indicatorType,
    tags: spec.tags,
    targetCountry: 'US',
    targetIndustry: spec.industry,
  };
  if (spec.extra !== null) out.indicators = [INDICATORS[spec.extra]];
  if (spec.insight !== null) out.insight = spec.insight;
  if (datasetId) out.datasetId = datasetId;
  return out;
}

const INVALID = [
  { category: 'Malware', date: 'yesterday', event: 'x', raw: { data: null }, tlp: 'amber' },
  { event: 'no category' },
];

function describeCommand(c: Command): string {
  return JSON.stringify(c);
}

async function call(
  account: TestAccount,
  method: string,
  path: string,
  payload?: unknown,
  expected: number[] = [200],
) {
  const res = await account.call(method, path, payload);
  if (!expected.includes(res.status)) {
    throw new Error(
      `${method} ${path} ${JSON.stringify(payload)} answered ${res.status}: ${JSON.stringify(res.body)}`,
    );
  }
  return res;
}

async function listing(account: TestAccount, datasetId: string, search?: unknown): Promise<Listing> {
  const q = new URLSearchParams({ datasetId, pageSize: '25000', orderBy: 'uuid', order: 'asc' });
  if (search) q.set('search', JSON.stringify(search));
  const res = await call(account, 'GET', `/events?${q}`);
  const events = res.body.result as Listing;
  expect(res.body.result_info.total_count).toBe(events.length);
  return [...events].sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
}

/** The state after the last command at or before `ms` (an empty dataset before the first). */
function stateAt(snapshots: readonly Snapshot[], ms: number, ds: 0 | 1): Listing {
  let found: Snapshot | undefined;
  for (const s of snapshots) if (s.t <= ms) found = s;
  return found ? found.state[ds] : [];
}

/** Derived views of a dataset agree with its listing. */
async function expectViews(account: TestAccount, datasetId: string, events: Listing, label: string) {
  for (const by of ['attacker', 'tags', 'targetIndustry'] as const) {
    const res = await call(account, 'GET', `/events/aggregate?aggregateBy=${by}&datasetId=${datasetId}`);
    const want = countByHand(events, { by: [by] });
    expect(res.body.result.aggregations, `${label}: aggregate by ${by}`).toEqual(want.rows);
    expect(res.body.result.total, `${label}: aggregate total`).toBe(want.total);
  }
  for (const tag of TAGS) {
    const got = await listing(account, datasetId, [{ field: 'tags', op: 'equals', value: tag }]);
    const want = events.filter((e) => (e.tags as string[]).includes(tag));
    expect(
      got.map((e) => e.uuid),
      `${label}: search tags equals ${tag}`,
    ).toEqual(want.map((e) => e.uuid));
  }
  for (const ind of INDICATORS) {
    const got = await listing(account, datasetId, [{ field: 'indicator', op: 'equals', value: ind.value }]);
    const want = events.filter((e) =>
      (e.indicators as { value: string }[]).some((i) => i.value === ind.value),
    );
    expect(
      got.map((e) => e.uuid),
      `${label}: search indicator equals ${ind.value}`,
    ).toEqual(want.map((e) => e.uuid));
  }
  // Full text: edits and reverts rewrite an event's words, and removed events leave their
  // entries behind as ghosts that must never match.
  for (const word of ['twice', 'sinkholed', 'edited', 'reviewed', 'gamma', 'zeta']) {
    const got = await listing(account, datasetId, [{ field: 'event', op: 'find', value: word }]);
    const want = events.filter(
      (e) =>
        String(e.insight ?? '')
          .split(' ')
          .includes(word) || (e.indicators as { value: string }[]).some((i) => i.value.includes(word)),
    );
    expect(
      got.map((e) => e.uuid),
      `${label}: find ${word}`,
    ).toEqual(want.map((e) => e.uuid));
  }
  const res = await call(
    account,
    'GET',
    `/events/indicators?datasetIds=${datasetId}&pageSize=1000&includeTotalCount=true&relatedEventsLimit=0&includeTags=false`,
  );
  const listed = (res.body.result.indicators as { indicatorType: string; value: string }[])
    .map((i) => `${i.indicatorType}:${i.value}`)
    .sort();
  const carried = [
    ...new Set(
      events.flatMap((e) =>
        (e.indicators as { indicatorType: string; value: string }[]).map(
          (i) => `${i.indicatorType}:${i.value}`,
        ),
      ),
    ),
  ].sort();
  expect(listed, `${label}: GET /events/indicators`).toEqual(carried);
  expect(res.body.result.pagination.total_count, `${label}: indicator total_count`).toBe(carried.length);
}

async function runScenario(scenario: { step: number; command: Command }[]): Promise<void> {
  const t = makeTestApp({ shardMaxEvents: 5 });
  const account = await t.account();
  const ids: [string, string] = ['', ''];
  for (const [i, name] of ['Main', 'Other'].entries()) {
    const res = await call(account, 'POST', '/events/dataset/create', { name, isPublic: false });
    ids[i] = res.body.result.uuid;
  }
  const t0 = t.clock.now();
  const current: [Listing, Listing] = [[], []];
  const snapshots: Snapshot[] = [{ t: t0, state: [[], []] }];
  const bookmarks: [{ bookmark: string; state: Listing }[], { bookmark: string; state: Listing }[]] = [
    [],
    [],
  ];
  const undos: [
    { bookmark: string; state: Listing } | undefined,
    { bookmark: string; state: Listing } | undefined,
  ] = [undefined, undefined];
  const log: string[] = [];

  const pick = (p: Pick) => {
    const list = current[p.ds];
    return list.length ? list[p.n % list.length] : undefined;
  };
  const picks = (ds: 0 | 1, ns: number[]) => {
    const list = current[ds];
    if (!list.length) return [];
    return [...new Set(ns.map((n) => (list[n % list.length] as ListedEvent).uuid))];
  };

  /** Reverts dataset `ds` with `input` and checks the result against `expected`. */
  const revert = async (ds: 0 | 1, input: Record<string, unknown>, expected: Listing, label: string) => {
    const other: 0 | 1 = ds === 0 ? 1 : 0;
    const before = current[ds];
    const res = await call(account, 'POST', `/events/${ids[ds]}/revert-do`, input);
    stats.reverts++;
    stats.changed += res.body.result.eventsChanged;
    if (JSON.stringify(expected) !== JSON.stringify(before)) stats.effective++;
    const ctx = `${label}\nafter:\n${log.join('\n')}`;
    const now = [await listing(account, ids[0]), await listing(account, ids[1])] as [Listing, Listing];
    expect(now[ds], `${ctx}\nreverted dataset`).toEqual(expected);
    expect(now[other], `${ctx}\nthe other dataset is untouched`).toEqual(current[other]);
    await expectViews(account, ids[ds], now[ds], ctx);
    undos[ds] = { bookmark: res.body.result.undoBookmark, state: before };
    return now;
  };

  stats.runs++;
  for (const { step, command } of scenario) {
    stats.commands++;
    t.clock.advance(step);
    log.push(`+${step}ms ${describeCommand(command)}`);
    let next: [Listing, Listing] | undefined;
    switch (command.kind) {
      case 'create':
        await call(account, 'POST', '/events/create', body(command.event, ids[command.ds]));
        break;
      case 'bulk': {
        let k = 0;
        const data = command.items.map((item) =>
          item === 'invalid' ? INVALID[k++ % INVALID.length] : body(item),
        );
        const res = await call(
          account,
          'POST',
          '/events/create/bulk',
          { datasetId: ids[command.ds], data },
          [202],
        );
        expect(res.body.result.createdEventsCount).toBe(command.items.filter((i) => i !== 'invalid').length);
        break;
      }
      case 'edit': {
        const e = pick(command.pick);
        if (!e) break;
        const edit = command.edit;
        const patch: Record<string, unknown> = { datasetId: ids[command.pick.ds] };
        if (edit.field === 'date')
          patch.date = new Date(Date.UTC(2025, 0, 1) + edit.value * DAY).toISOString();
        else if (edit.field === 'indicator') {
          const ind = INDICATORS[edit.value] as (typeof INDICATORS)[number];
          patch.indicator = ind.value;
          patch.indicatorType = ind.indicatorType;
        } else patch[edit.field] = edit.value;
        await call(account, 'PATCH', `/events/${e.uuid}`, patch);
        break;
      }
      case 'addTags': {
        const e = pick(command.pick);
        if (e) await call(account, 'POST', `/events/event_tag/${e.uuid}/create`, { tags: command.tags });
        break;
      }
      case 'removeTags': {
        const e = pick(command.pick);
        if (e)
          await call(
            account,
            'DELETE',
            `/events/event_tag/${e.uuid}`,
            command.tags ? { tags: command.tags } : undefined,
          );
        break;
      }
      case 'move': {
        const eventIds = picks(command.from, command.picks);
        if (eventIds.length === 0) break;
        const to = command.from === 0 ? 1 : 0;
        // A revert of the source may have brought back an event that was moved out: the
        // target still holds it, and the move is refused whole.
        const clash = eventIds.filter((uuid) => current[to].some((e) => e.uuid === uuid));
        const res = await call(
          account,
          'POST',
          `/events/dataset/${ids[command.from]}/move`,
          { eventIds, targetDatasetId: ids[to] },
          [clash.length ? 400 : 200],
        );
        if (clash.length) {
          expect(res.body.errors.map((e) => e.message)).toEqual(
            clash.map(
              (uuid) => `eventIds[${eventIds.indexOf(uuid)}]: event ${uuid} is already in dataset ${ids[to]}`,
            ),
          );
        } else expect(res.body.result).toBe(eventIds.length);
        break;
      }
      case 'deleteIds': {
        const eventIds = picks(command.ds, command.picks);
        if (eventIds.length === 0) break;
        const res = await call(account, 'DELETE', `/events/${ids[command.ds]}/delete`, { eventIds });
        expect(res.body.result).toBe(eventIds.length);
        break;
      }
      case 'deleteSearch': {
        const res = await call(account, 'DELETE', `/events/${ids[command.ds]}/delete`, {
          search: [{ field: 'tags', op: 'equals', value: command.tag }],
          confirm: true,
        });
        expect(res.body.result).toBe(
          current[command.ds].filter((e) => (e.tags as string[]).includes(command.tag)).length,
        );
        break;
      }
      case 'bookmark': {
        const res = await call(account, 'GET', `/events/${ids[command.ds]}/bookmark`);
        bookmarks[command.ds].push({ bookmark: res.body.result.bookmark, state: current[command.ds] });
        break;
      }
      case 'revertAt': {
        const s = snapshots[command.snapshot % snapshots.length] as Snapshot;
        const delta = command.offset === 'before' ? -1 : command.offset === 'after' ? 1 : 0;
        const target = Math.min(Math.max(s.t + delta, t0), t.clock.now());
        next = await revert(
          command.ds,
          { targetTimestamp: new Date(target).toISOString() },
          stateAt(snapshots, target, command.ds),
          `revert ${command.ds} to ${new Date(target).toISOString()}`,
        );
        break;
      }
      case 'revertMinutes': {
        const target = Math.max(t.clock.now() - command.quarters * 15_000, t0);
        const minutesAgo = (t.clock.now() - target) / 60_000;
        // Only quarter minutes, so the server's arithmetic lands on exactly the same millisecond.
        const quarters = Math.floor(minutesAgo * 4);
        const exact = t.clock.now() - quarters * 15_000;
        next = await revert(
          command.ds,
          { minutesAgo: quarters / 4 },
          stateAt(snapshots, exact, command.ds),
          `revert ${command.ds} ${quarters / 4} minutes ago`,
        );
        break;
      }
      case 'revertBookmark': {
        const list = bookmarks[command.ds];
        const b = list[command.n % Math.max(list.length, 1)];
        if (!b) break;
        next = await revert(
          command.ds,
          { revertBookmark: b.bookmark },
          b.state,
          `revert ${command.ds} to a bookmark`,
        );
        break;
      }
      case 'undo': {
        const u = undos[command.ds];
        if (!u) break;
        next = await revert(
          command.ds,
          { revertBookmark: u.bookmark },
          u.state,
          `undo the last revert of ${command.ds}`,
        );
        break;
      }
    }
    current[0] = next ? next[0] : await listing(account, ids[0]);
    current[1] = next ? next[1] : await listing(account, ids[1]);
    stats.maxEvents = Math.max(stats.maxEvents, current[0].length + current[1].length);
    const snapshot: Snapshot = { t: t.clock.now(), state: [current[0], current[1]] };
    if (snapshots.at(-1)?.t === snapshot.t) snapshots[snapshots.length - 1] = snapshot;
    else snapshots.push(snapshot);
  }
  // Whatever the last command was, both datasets' derived views agree with their listings.
  await expectViews(account, ids[0], current[0], `end of run, dataset 0\n${log.join('\n')}`);
  await expectViews(account, ids[1], current[1], `end of run, dataset 1\n${log.join('\n')}`);
}

describe('E11 revert: property over random command sequences', () => {
  it('a revert restores exactly the state at the target, and every derived view agrees', async () => {
    await fc.assert(fc.asyncProperty(scenarioArb, runScenario), {
      seed: SEED,
      numRuns: NUM_RUNS,
      endOnFailure: false,
    });
    expect(stats.effective, JSON.stringify(stats)).toBeGreaterThan(NUM_RUNS);
    console.log(JSON.stringify(stats));
  }, 120_000);
});
