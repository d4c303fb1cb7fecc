import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { BenchEvent, Corpus } from './corpus.ts';
import {
  BASE,
  bulkBody,
  bulkIngest,
  countEvents,
  createDataset,
  fmt,
  json,
  log,
  mib,
  must,
  procStatus,
  request,
  resetAgent,
  resetPeakRss,
  rng,
  type Server,
  startServer,
  streamGet,
  summarise,
  WORK,
  yes,
} from './lib.ts';

// The measurements beyond ingest and GET /events: indicator look-ups, traversal, aggregation
// (server and bare SQLite), the journal's cost and revert, and STIX export memory.

/** A titled part of RESULTS.md: a few lines of method, then a Measure | Result | Target | Met table. */
export interface Section {
  title: string;
  text: string[];
  rows: [string, string, string, string][];
}

export function renderSection(s: Section): string[] {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [
    `## ${s.title}`,
    '',
    ...(s.text.length ? [...s.text, ''] : []),
    '| Measure | Result | Target | Met |',
    '|---|---|---|---|',
    ...s.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
    '',
  ];
}

const ms2 = (n: number) => `${n.toFixed(2)} ms`;
const BATCH = 1000;
const DAY = 86_400_000;

function shuffle<T>(list: T[], r: () => number): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = list[i] as T;
    list[i] = list[j] as T;
    list[j] = t;
  }
  return list;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const syntheticIndicator = (i: number) => sha256(`bench-indicator-${i}`);

// ---------------------------------------------------------------------------------------------
// 1. Indicators

export interface IndicatorOptions {
  indicators: number;
  perEvent: number;
  queries: number;
  concurrency: number;
  seed: number;
}

/**
 * A second dataset whose events carry `perEvent` synthetic, unique sha256 indicators each, then
 * bulk look-ups of 100 values (half present, half absent) by `search.op=in`.
 */
export async function indicatorLookups(
  server: Server,
  corpus: Corpus,
  o: IndicatorOptions,
): Promise<Section> {
  const { port } = server;
  const datasetId = await createDataset(port, 'bench-indicators');
  const nEvents = Math.ceil(o.indicators / o.perEvent);
  log(`indicators: generating ${fmt(nEvents)} events carrying ${fmt(o.indicators)} unique sha256 values`);
  const gen = corpus.events(o.seed);
  const bodies: Buffer[] = [];
  let next = 0;
  for (let done = 0; done < nEvents; ) {
    const rows: BenchEvent[] = [];
    for (let k = 0; k < BATCH && done < nEvents; k++, done++) {
      const e = gen.next().value as BenchEvent;
      const values: string[] = [];
      for (let j = 0; j < o.perEvent && next < o.indicators; j++) values.push(syntheticIndicator(next++));
      e.indicator = values[0] as string;
      e.indicatorType = 'sha256';
      e.indicators = values.slice(1).map((value) => ({ indicatorType: 'sha256', value }));
      rows.push(e);
    }
    bodies.push(bulkBody(datasetId, json(rows)));
  }
  resetAgent();
  log('indicators: ingesting');
  const ingest = await bulkIngest(port, bodies, o.concurrency, 'indicators');
  bodies.length = 0;
  const rate = ingest.stored / ingest.seconds;
  log(`indicators: ${ingest.stored} events in ${ingest.seconds.toFixed(1)} s (${rate.toFixed(0)} events/s)`);

  const countQ = new URLSearchParams({
    datasetIds: datasetId,
    includeTotalCount: 'true',
    includeTags: 'false',
    relatedEventsLimit: '0',
    pageSize: '1',
  });
  const counted = must(await request(port, 'GET', `${BASE}/events/indicators?${countQ}`), 'indicator count')
    .result as { pagination: { total_count: number | null } };
  const stored = Number(counted.pagination.total_count ?? Number.NaN);

  const r = rng(o.seed + 1);
  const lookup = (q: number) => {
    const present = new Set<number>();
    while (present.size < 50) present.add(Math.floor(r() * o.indicators));
    const values = [
      ...[...present].map(syntheticIndicator),
      ...Array.from({ length: 50 }, (_, k) => sha256(`absent-${q}-${k}`)),
    ];
    const params = new URLSearchParams({
      datasetIds: datasetId,
      relatedEventsLimit: '0',
      includeTags: 'false',
      pageSize: '100',
      'search.field': 'value',
      'search.op': 'in',
    });
    for (const v of shuffle(values, r)) params.append('search.value', v);
    return `${BASE}/events/indicators?${params}`;
  };
  for (let q = 0; q < 5; q++) must(await request(port, 'GET', lookup(-1 - q)), 'indicator look-up');
  const ms: number[] = [];
  let wrong = 0;
  for (let q = 0; q < o.queries; q++) {
    const reply = await request(port, 'GET', lookup(q));
    const body = must(reply, 'indicator look-up').result as { indicators: unknown[] };
    if (body.indicators.length !== 50) wrong++;
    ms.push(reply.ms);
  }
  const t = summarise(ms);
  log(`indicators: look-up p50 ${t.p50.toFixed(2)} ms, p99 ${t.p99.toFixed(2)} ms`);
  return {
    title: 'Indicators',
    text: [
      `A second dataset holds ${fmt(ingest.stored)} events from the same generator, each carrying ${o.perEvent} synthetic,`,
      `unique sha256 indicators (BENCH_INDICATORS=${o.indicators}). Each look-up is`,
      '`GET /events/indicators?datasetIds=<ds>&search.field=value&search.op=in&search.value=…` with 100 values',
      `(50 stored, 50 absent, a different set each time), \`relatedEventsLimit=0&includeTags=false&pageSize=100\`;`,
      `${o.queries} timed requests after 5 warm-up requests.`,
    ],
    rows: [
      [
        `Ingest of the indicator dataset (${fmt(ingest.stored)} events)`,
        `${fmt(rate)} events/s (${ingest.seconds.toFixed(1)} s)`,
        '—',
        '—',
      ],
      [
        'Distinct indicators in the dataset (total_count)',
        fmt(stored),
        `${fmt(o.indicators)}`,
        yes(stored === o.indicators),
      ],
      [
        'Bulk look-up of 100 values',
        `p50 ${ms2(t.p50)}, p99 ${ms2(t.p99)}${wrong ? ` (${wrong} answers without the 50 stored values)` : ''}`,
        'p99 < 20 ms',
        yes(t.p99 < 20 && wrong === 0),
      ],
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Traversal

export interface TraversalOptions {
  relationships: number;
  queries: number;
  seed: number;
  totalEvents: number;
}

/**
 * Builds trees (binary, depth 6) and "caterpillars" (a 9-event chain whose every event also has
 * 3 leaf children) among events of the main dataset, then times depth-5 traversals from random
 * events in them.
 */
export async function traversal(server: Server, datasetId: string, o: TraversalOptions): Promise<Section> {
  const { port } = server;
  const r = rng(o.seed);
  // Enough events for the structures, taken at random from a large first page.
  const perPair = 127 + 36;
  const need = Math.ceil(o.relationships / (126 + 35)) * perPair + perPair;
  const pageSize = Math.min(25_000, Math.max(need * 4, 5_000));
  const q = new URLSearchParams({ datasetId, pageSize: String(pageSize) });
  const page = must(await request(port, 'GET', `${BASE}/events?${q}`), 'traversal pool').result as {
    uuid: string;
  }[];
  const pool = shuffle(
    page.map((e) => e.uuid),
    r,
  );
  let at = 0;
  const take = (): string => {
    const u = pool[at++];
    if (u === undefined) throw new Error(`traversal: needs more than the ${pool.length} events fetched`);
    return u;
  };
  const groups: { parent: string; children: string[] }[] = [];
  const nodes: string[] = [];
  let rels = 0;
  let trees = 0;
  let chains = 0;
  for (let kind = 0; rels < o.relationships; kind++) {
    if (kind % 2 === 0) {
      let level = [take()];
      nodes.push(...level);
      for (let d = 1; d <= 6; d++) {
        const below: string[] = [];
        for (const p of level) {
          const kids = [take(), take()];
          groups.push({ parent: p, children: kids });
          below.push(...kids);
        }
        nodes.push(...below);
        rels += below.length;
        level = below;
      }
      trees++;
    } else {
      const spine = Array.from({ length: 9 }, take);
      nodes.push(...spine);
      spine.forEach((p, i) => {
        const leaves = [take(), take(), take()];
        nodes.push(...leaves);
        const next = spine[i + 1];
        const children = next === undefined ? leaves : [next, ...leaves];
        groups.push({ parent: p, children });
        rels += children.length;
      });
      chains++;
    }
  }
  log(
    `traversal: creating ${rels} relationships (${trees} trees, ${chains} chains) in ${groups.length} requests`,
  );
  const types = ['related_to', 'caused_by', 'derived_from'];
  const t0 = process.hrtime.bigint();
  let created = 0;
  for (const [i, g] of groups.entries()) {
    const body = must(
      await request(
        port,
        'POST',
        `${BASE}/events/relationships/create`,
        json({ parentId: g.parent, childIds: g.children, relationshipType: types[i % types.length] }),
      ),
      'relationships create',
    ).result as { relationshipsCreated: number; errors: { error: string }[] };
    if (body.errors.length) throw new Error(`relationships create: ${body.errors[0]?.error}`);
    created += body.relationshipsCreated;
  }
  const createSeconds = Number(process.hrtime.bigint() - t0) / 1e9;

  const url = (uuid: string) =>
    `${BASE}/events/${uuid}/relationships?${new URLSearchParams({ datasetId, maxDepth: '5', direction: 'both' })}`;
  const pick = () => nodes[Math.floor(r() * nodes.length)] as string;
  for (let i = 0; i < 5; i++) must(await request(port, 'GET', url(pick())), 'traversal');
  const ms: number[] = [];
  let reached = 0;
  let most = 0;
  for (let i = 0; i < o.queries; i++) {
    const reply = await request(port, 'GET', url(pick()));
    const n = Number(must(reply, 'traversal').result_info?.total_count ?? 0);
    reached += n;
    most = Math.max(most, n);
    ms.push(reply.ms);
  }
  const t = summarise(ms);
  log(`traversal: p50 ${t.p50.toFixed(2)} ms, p99 ${t.p99.toFixed(2)} ms`);
  return {
    title: 'Traversal',
    text: [
      `${fmt(created)} relationships among ${fmt(nodes.length)} events of the main dataset (${fmt(o.totalEvents)} events):`,
      `${trees} binary trees of depth 6 (127 events each) and ${chains} chains of 9 events where each event also`,
      'has 3 leaf children (depth 8 along the chain), created by `POST /events/relationships/create`, one',
      'request per parent. Each timed request is',
      '`GET /events/{event_id}/relationships?datasetId=<ds>&maxDepth=5&direction=both` from a random event of',
      `those structures (default page of 100); ${o.queries} timed requests after 5 warm-up requests.`,
    ],
    rows: [
      [
        `Creating ${fmt(created)} relationships (${groups.length} requests)`,
        `${createSeconds.toFixed(1)} s (${((createSeconds * 1000) / groups.length).toFixed(1)} ms per request)`,
        '—',
        '—',
      ],
      [
        'Events reached (total_count, start included)',
        `mean ${(reached / o.queries).toFixed(1)}, max ${most}`,
        '—',
        '—',
      ],
      [
        `Traversal, depth 5, both directions, in a ${fmt(o.totalEvents)}-event dataset`,
        `p50 ${ms2(t.p50)}, p99 ${ms2(t.p99)}`,
        'p99 < 50 ms',
        yes(t.p99 < 50),
      ],
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// 3. Aggregation

/** The year the aggregation covers: the middle year of the corpus (2023–2025). */
export const AGG_YEAR = 2024;
const aggStart = Date.UTC(AGG_YEAR, 0, 1);
const aggEnd = Date.UTC(AGG_YEAR + 1, 0, 1) - 1;

export interface ServerAggregation {
  firstMs: number;
  ms: number[];
  total: number;
  groupCount: number;
  topCounts: number[];
}

/** `GET /events/aggregate` by attacker and target industry per day over a year: the first request, then `runs` more. */
export async function serverAggregation(
  server: Server,
  datasetId: string,
  runs: number,
): Promise<ServerAggregation> {
  const q = new URLSearchParams({
    datasetId,
    aggregateBy: 'attacker,targetIndustry',
    groupByDate: 'true',
    startDate: `${AGG_YEAR}-01-01`,
    endDate: `${AGG_YEAR}-12-31`,
    limit: '100',
  });
  const url = `${BASE}/events/aggregate?${q}`;
  const first = await request(server.port, 'GET', url);
  const body = must(first, 'aggregate').result as {
    total: number;
    groupCount: number;
    aggregations: { count: number }[];
  };
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const reply = await request(server.port, 'GET', url);
    must(reply, 'aggregate');
    ms.push(reply.ms);
  }
  const t = summarise(ms);
  log(
    `aggregate: first ${first.ms.toFixed(0)} ms, then median ${t.p50.toFixed(2)} ms, p99 ${t.p99.toFixed(2)} ms`,
  );
  return {
    firstMs: first.ms,
    ms,
    total: body.total,
    groupCount: body.groupCount,
    topCounts: body.aggregations.map((a) => a.count),
  };
}

export interface SqliteAggregation {
  ms: number[];
  total: number;
  topCounts: number[];
  shards: number;
}

/**
 * The same question straight to the dataset's shard file(s) with better-sqlite3, read-only, with
 * the server stopped (the same 192 MiB page cache as a server shard connection). A dataset in
 * several shards is answered per shard and merged here.
 */
export function sqliteAggregation(
  dataDir: string,
  account: string,
  datasetId: string,
  runs: number,
): SqliteAggregation {
  const accountDir = path.join(dataDir, 'accounts', account);
  const catalog = new Database(path.join(accountDir, 'account.db'), { readonly: true });
  const shardIds = (
    catalog.prepare('SELECT id FROM shards WHERE dataset_id = ? ORDER BY ordinal').all(datasetId) as {
      id: string;
    }[]
  ).map((s) => s.id);
  catalog.close();
  const dbs = shardIds.map((id) => {
    const db = new Database(path.join(accountDir, 'shards', `${id}.db`), { readonly: true });
    db.pragma(`cache_size = ${-1024 * 192}`);
    return db;
  });
  const single = dbs.length === 1;
  const sql = `SELECT attacker, target_industry, date_ms / ${DAY} AS day, count(*) AS n FROM events
    WHERE date_ms BETWEEN ? AND ? GROUP BY 1, 2, 3 ORDER BY 4 DESC${single ? ' LIMIT 100' : ''}`;
  const statements = dbs.map((db) => db.prepare(sql));
  type Row = { attacker: string; target_industry: string; day: number; n: number };
  const run = (): number[] => {
    const only = single ? statements[0] : undefined;
    if (only) return (only.all(aggStart, aggEnd) as Row[]).map((row) => row.n);
    const merged = new Map<string, number>();
    for (const s of statements) {
      for (const row of s.all(aggStart, aggEnd) as Row[]) {
        const k = `${row.attacker}\u0000${row.target_industry}\u0000${row.day}`;
        merged.set(k, (merged.get(k) ?? 0) + row.n);
      }
    }
    return [...merged.values()].sort((a, b) => b - a).slice(0, 100);
  };
  let topCounts = run();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    topCounts = run();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  let total = 0;
  for (const db of dbs) {
    total += (
      db.prepare('SELECT count(*) AS n FROM events WHERE date_ms BETWEEN ? AND ?').get(aggStart, aggEnd) as {
        n: number;
      }
    ).n;
    db.close();
  }
  const t = summarise(ms);
  log(`aggregate in bare SQLite: median ${t.p50.toFixed(2)} ms`);
  return { ms, total, topCounts, shards: dbs.length };
}

export function aggregationSection(
  s: ServerAggregation,
  q: SqliteAggregation | undefined,
  events: number,
): Section {
  const t = summarise(s.ms);
  const rows: Section['rows'] = [
    ['First request (builds the in-memory column copy)', ms2(s.firstMs), '—', '—'],
    [
      `Two-column aggregation, daily, over ${AGG_YEAR} (${fmt(s.total)} events, ${fmt(s.groupCount)} groups)`,
      `median ${ms2(t.p50)}, p99 ${ms2(t.p99)}`,
      'median < 100 ms',
      yes(t.p50 < 100),
    ],
  ];
  if (q) {
    const b = summarise(q.ms);
    const same =
      q.total === s.total &&
      q.topCounts.length === s.topCounts.length &&
      q.topCounts.every((n, i) => n === s.topCounts[i]);
    rows.push(
      [
        `The same query in bare SQLite (read-only, server stopped${q.shards > 1 ? `, ${q.shards} shards merged` : ''})`,
        `median ${ms2(b.p50)}, p99 ${ms2(b.p99)}`,
        '—',
        '—',
      ],
      ['Server / bare SQLite (medians)', `${(t.p50 / b.p50).toFixed(2)}×`, '—', '—'],
      [
        'Same total and top-100 counts as the server',
        same ? 'yes' : `no (SQLite total ${fmt(q.total)})`,
        'yes',
        yes(same),
      ],
    );
  }
  return {
    title: 'Aggregation',
    text: [
      `\`GET /events/aggregate?datasetId=<ds>&aggregateBy=attacker,targetIndustry&groupByDate=true&startDate=${AGG_YEAR}-01-01&endDate=${AGG_YEAR}-12-31&limit=100\``,
      `on the main dataset (${fmt(events)} events over 2023–2025): the first request, then ${s.ms.length} timed requests. The bare`,
      'SQLite figure runs `SELECT attacker, target_industry, date_ms/86400000 AS day, count(*) FROM events WHERE',
      `date_ms BETWEEN ? AND ? GROUP BY 1,2,3 ORDER BY 4 DESC LIMIT 100\` on the shard file after the server has stopped`,
      `(${q ? q.ms.length : 0} runs after one warm-up, 192 MiB page cache as a server shard).`,
    ],
    rows,
  };
}

// ---------------------------------------------------------------------------------------------
// 4. Journal cost and revert

export interface JournalOptions {
  events: number;
  revertEvents: number;
  concurrency: number;
  seed: number;
}

/**
 * Ingests the same `events` into two fresh servers, journal off and on, interleaved: each round
 * sends the next `concurrency` batches to one server and then the same batches to the other,
 * alternating which goes first, so that changes in the machine's load hit both alike. Each
 * server's rate is its events over the sum of its own rounds' times. Then, on the journal-on
 * server: bookmark, `revertEvents` more, and a timed revert to the bookmark.
 */
export async function journalCost(corpus: Corpus, o: JournalOptions): Promise<Section> {
  log(`journal: generating ${fmt(o.events)} + ${fmt(o.revertEvents)} events`);
  const gen = corpus.events(o.seed);
  const serialise = (n: number): Buffer[] => {
    const out: Buffer[] = [];
    for (let done = 0; done < n; ) {
      const rows: BenchEvent[] = [];
      for (let k = 0; k < BATCH && done < n; k++, done++) rows.push(gen.next().value as BenchEvent);
      out.push(json(rows));
    }
    return out;
  };
  const data = serialise(o.events);
  const extra = serialise(o.revertEvents);
  const modes = ['off', 'on'] as const;
  type Mode = (typeof modes)[number];
  const dirs = { off: path.join(WORK, 'journal-off'), on: path.join(WORK, 'journal-on') };
  const servers = new Map<Mode, Server>();
  const time: Record<Mode, number> = { off: 0, on: 0 };
  const stored: Record<Mode, number> = { off: 0, on: 0 };
  const datasetIds: Record<Mode, string> = { off: '', on: '' };
  let revert = { ms: Number.NaN, before: 0, mid: 0, after: 0, changed: 0 };
  try {
    const bodies = new Map<Mode, Buffer[]>();
    for (const mode of modes) {
      fs.rmSync(dirs[mode], { recursive: true, force: true });
      const server = await startServer(dirs[mode], {
        THREATDESK_JOURNAL: mode === 'off' ? 'off' : undefined,
      });
      servers.set(mode, server);
      datasetIds[mode] = await createDataset(server.port, `bench-journal-${mode}`);
      bodies.set(
        mode,
        data.map((d) => bulkBody(datasetIds[mode], d)),
      );
    }
    resetAgent();
    log(`journal: ingesting ${fmt(o.events)} events into each server, interleaved`);
    for (let at = 0, round = 0; at < data.length; at += o.concurrency, round++) {
      for (const mode of round % 2 === 0 ? modes : [...modes].reverse()) {
        const server = servers.get(mode) as Server;
        const list = (bodies.get(mode) as Buffer[]).slice(at, at + o.concurrency);
        const t0 = process.hrtime.bigint();
        const r = await bulkIngest(server.port, list, o.concurrency, `journal ${mode}`);
        time[mode] += Number(process.hrtime.bigint() - t0) / 1e9;
        stored[mode] += r.stored;
      }
      if (round % 50 === 49) log(`  journal: ${stored.on} events into each`);
    }
    bodies.clear();
    await servers.get('off')?.stop();
    log(
      `journal: off ${(stored.off / time.off).toFixed(0)} events/s, on ${(stored.on / time.on).toFixed(0)} events/s`,
    );

    const server = servers.get('on') as Server;
    const ds = datasetIds.on;
    const mark = must(await request(server.port, 'GET', `${BASE}/events/${ds}/bookmark`), 'bookmark')
      .result as { bookmark: string };
    const before = await countEvents(server.port, ds);
    log(`journal on: ingesting ${fmt(o.revertEvents)} more, then reverting them`);
    await bulkIngest(
      server.port,
      extra.map((d) => bulkBody(ds, d)),
      o.concurrency,
      'revert',
    );
    const mid = await countEvents(server.port, ds);
    resetAgent();
    const reply = await request(
      server.port,
      'POST',
      `${BASE}/events/${ds}/revert-do`,
      json({ revertBookmark: mark.bookmark }),
    );
    const body = must(reply, 'revert').result as { eventsChanged?: number };
    const after = await countEvents(server.port, ds);
    revert = { ms: reply.ms, before, mid, after, changed: Number(body.eventsChanged ?? Number.NaN) };
    log(
      `journal on: revert of ${mid - before} events took ${reply.ms.toFixed(0)} ms; count ${mid} → ${after}`,
    );
  } finally {
    for (const mode of modes) {
      await servers.get(mode)?.stop();
      fs.rmSync(dirs[mode], { recursive: true, force: true });
    }
  }
  const rate = (mode: Mode) => stored[mode] / time[mode];
  const drop = 1 - rate('on') / rate('off');
  const reverted = revert.mid - revert.before;
  const back = revert.after === revert.before;
  return {
    title: 'Journal and revert',
    text: [
      `The same ${fmt(o.events)} events (another stretch of the generator) are bulk-ingested into two fresh servers,`,
      '`THREATDESK_JOURNAL=off` and the default (journal on), interleaved: each round sends the next',
      `${o.concurrency} batches of ${BATCH} to one server, then the same batches to the other, alternating which goes first,`,
      "so that changes in the machine's load hit both alike; each rate counts only that server's own rounds. On the",
      `journal-on server the bench then takes \`GET /events/{ds}/bookmark\`, ingests ${fmt(o.revertEvents)} more events and`,
      'times `POST /events/{ds}/revert-do {revertBookmark}` back to the bookmark.',
    ],
    rows: [
      [
        `Bulk ingest, journal off (${fmt(stored.off)} events, fresh server)`,
        `${fmt(rate('off'))} events/s (${time.off.toFixed(1)} s)`,
        '—',
        '—',
      ],
      [
        `Bulk ingest, journal on (default; ${fmt(stored.on)} events, fresh server)`,
        `${fmt(rate('on'))} events/s (${time.on.toFixed(1)} s)`,
        '—',
        '—',
      ],
      ['Throughput drop with the journal', `${(drop * 100).toFixed(1)} %`, '≤ 10 %', yes(drop <= 0.1)],
      [
        `Revert of ${fmt(reverted)} changed events`,
        `${(revert.ms / 1000).toFixed(2)} s (eventsChanged ${fmt(revert.changed)})`,
        '< 2 s',
        yes(revert.ms < 2000 && back),
      ],
      [
        'Event count before → after the extra ingest → after the revert',
        `${fmt(revert.before)} → ${fmt(revert.mid)} → ${fmt(revert.after)}`,
        'back to the first',
        yes(back),
      ],
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// 5. Export memory

export interface ExportOptions {
  /** At most this many events (the newest, by a date condition); undefined: the whole dataset. */
  cap: number | undefined;
  /** Every event date of the main dataset, to place the cap's date condition. */
  dates: Float64Array;
  totalEvents: number;
}

/** Streams the dataset as a STIX 2.1 bundle (`export=all`), sampling the server's RSS meanwhile. */
export async function exportMemory(server: Server, datasetId: string, o: ExportOptions): Promise<Section> {
  const { port, pid } = server;
  const q = new URLSearchParams({ datasetId, format: 'stix2', export: 'all' });
  const countQ = new URLSearchParams({ datasetId, pageSize: '1' });
  let capNote = '';
  if (o.cap !== undefined && o.cap < o.totalEvents) {
    const sorted = Float64Array.from(o.dates).sort();
    const from = new Date(sorted[sorted.length - o.cap] ?? 0).toISOString();
    const search = JSON.stringify([{ field: 'date', op: 'gte', value: from }]);
    q.set('search', search);
    countQ.set('search', search);
    capNote = ` (capped by BENCH_EXPORT_EVENTS: events dated from ${from})`;
  }
  const events = Number(
    must(await request(port, 'GET', `${BASE}/events?${countQ}`), 'export count').result_info?.total_count ??
      0,
  );
  resetAgent();
  // Let the allocator settle, then sample.
  await new Promise((r) => setTimeout(r, 1000));
  const before = procStatus(pid, 'VmRSS');
  const hwmReset = resetPeakRss(pid);
  const samples: { t: number; rss: number }[] = [];
  const t0 = Date.now();
  const poll = setInterval(() => samples.push({ t: Date.now() - t0, rss: procStatus(pid, 'VmRSS') }), 50);
  log(`export: streaming ${fmt(events)} events as STIX 2.1`);
  const out = await streamGet(port, `${BASE}/events?${q}`);
  clearInterval(poll);
  const after = procStatus(pid, 'VmRSS');
  if (out.status !== 200) throw new Error(`export: HTTP ${out.status}: ${out.head}`);
  if (!out.tail.trimEnd().endsWith('}'))
    throw new Error(`export: the bundle does not end with }: …${out.tail}`);
  const sampledPeak = Math.max(before, ...samples.map((s) => s.rss));
  const peak = hwmReset ? Math.max(sampledPeak, procStatus(pid, 'VmHWM')) : sampledPeak;
  const half = out.ms / 2;
  const peakOf = (keep: (t: number) => boolean) =>
    Math.max(0, ...samples.filter((s) => keep(s.t)).map((s) => s.rss));
  const firstHalf = peakOf((t) => t < half);
  const secondHalf = peakOf((t) => t >= half);
  const seconds = out.ms / 1000;
  const growth = peak - before;
  log(
    `export: ${(out.bytes / 1e6).toFixed(0)} MB in ${seconds.toFixed(1)} s; RSS ${mib(before)} → peak ${mib(peak)}`,
  );
  return {
    title: 'Export memory',
    text: [
      `\`GET /events?datasetId=<ds>&format=stix2&export=all\`${capNote}, read to the end by the bench, counting`,
      `bytes; the server's RSS is sampled every 50 ms${hwmReset ? ' and its peak (VmHWM) reset just before the request' : ''}.`,
      '"Flat" is read here as: the second half of the export peaks no higher than the first half plus 16 MiB,',
      'that is, memory does not grow with the number of events sent. The one-time rise over the idle RSS before',
      'the request (buffers of one 1,000-event chunk, V8 heap headroom) is shown for information.',
    ],
    rows: [
      [
        `STIX 2.1 export of ${fmt(events)} events`,
        `${(out.bytes / 2 ** 20).toFixed(0)} MiB in ${seconds.toFixed(1)} s: ${(out.bytes / 2 ** 20 / seconds).toFixed(1)} MiB/s, ${fmt(events / seconds)} events/s, first byte after ${out.firstByteMs.toFixed(0)} ms`,
        '—',
        '—',
      ],
      [
        'Server RSS: before → peak during → after',
        `${mib(before)} → ${mib(peak)} → ${mib(after)} (+${mib(growth)})`,
        '—',
        '—',
      ],
      [
        'Peak RSS in the first half → second half of the export',
        `${mib(firstHalf)} → ${mib(secondHalf)}`,
        'flat (≤ +16 MiB)',
        yes(secondHalf <= firstHalf + 16 * 2 ** 20),
      ],
    ],
  };
}
