import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BenchEvent, Corpus, ftsWords, sharedDataDir } from './corpus.ts';
import {
  aggregationSection,
  exportMemory,
  indicatorLookups,
  journalCost,
  renderSection,
  type Section,
  type ServerAggregation,
  serverAggregation,
  sqliteAggregation,
  traversal,
} from './extra.ts';
import {
  ACCOUNT,
  BASE,
  bulkIngest,
  closeAgent,
  createDataset,
  dirSize,
  envInt,
  fmt,
  log,
  mib,
  must,
  percentile,
  procStatus,
  REPO,
  request,
  resetAgent,
  startServer,
  WORK,
} from './lib.ts';
import { runReference } from './reference.ts';

// npm run bench — ingest and query benchmark against the real server. See bench/RESULTS.md.
// BENCH_EVENTS (default 1,000,000), BENCH_QUERIES (requests per query, default 200),
// BENCH_CONCURRENCY (bulk requests in flight, default 2), BENCH_RESULTS (where to write the
// Markdown, default bench/RESULTS.md), BENCH_SERVER_NODE_ARGS, THREATDESK_SHARED_DATA.
// The further parts: BENCH_INDICATORS (synthetic indicators in a second dataset, default
// BENCH_EVENTS, 3 per event), BENCH_RELATIONSHIPS (default 2,000), BENCH_AGG_QUERIES (default 50),
// BENCH_JOURNAL_EVENTS (default 200,000), BENCH_REVERT_EVENTS (default 100,000),
// BENCH_EXPORT_EVENTS (cap on the STIX export, default all), BENCH_WORK (scratch folder, default
// bench/.work), BENCH_SKIP (comma list of parts not to run: indicators, traversal, aggregate,
// export, journal, reference).

const N = envInt('BENCH_EVENTS', 1_000_000);
const QUERIES = envInt('BENCH_QUERIES', 200);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 2);
const INDICATORS = envInt('BENCH_INDICATORS', N);
const RELATIONSHIPS = envInt('BENCH_RELATIONSHIPS', 2_000);
const AGG_QUERIES = envInt('BENCH_AGG_QUERIES', 50);
const JOURNAL_EVENTS = envInt('BENCH_JOURNAL_EVENTS', 200_000);
const REVERT_EVENTS = envInt('BENCH_REVERT_EVENTS', 100_000);
const EXPORT_EVENTS = process.env.BENCH_EXPORT_EVENTS ? envInt('BENCH_EXPORT_EVENTS', N) : undefined;
const PARTS = ['indicators', 'traversal', 'aggregate', 'export', 'journal', 'reference'] as const;
const SKIP = new Set(
  (process.env.BENCH_SKIP ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
for (const s of SKIP) {
  if (!(PARTS as readonly string[]).includes(s))
    throw new Error(`BENCH_SKIP: unknown part ${s}; expected ${PARTS.join(', ')}`);
}
const runs = (part: (typeof PARTS)[number]) => !SKIP.has(part);
const BATCH = 1000;
const SEED = 42;

interface Timing {
  name: string;
  detail: string;
  totalCount: number;
  p50: number;
  p99: number;
  target: string;
  ok: boolean;
}

/** Counters gathered while generating, to pick realistic query values. */
class Stats {
  attackers = new Map<string, number>();
  indicators = new Map<string, number>();
  tags = new Map<string, number>();
  words = new Map<string, number>();
  add(e: BenchEvent): void {
    inc(this.attackers, e.attacker);
    for (const v of new Set([e.indicator, ...e.indicators.map((i) => i.value)])) inc(this.indicators, v);
    for (const t of e.tags) inc(this.tags, t);
    for (const w of ftsWords(e)) inc(this.words, w);
  }
}

function inc(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function top(map: Map<string, number>): [string, number] {
  let best: [string, number] = ['', -1];
  for (const [k, v] of map) if (v > best[1]) best = [k, v];
  return best;
}

/** The entry whose count is closest to `target` among those passing `keep`. */
function closest(map: Map<string, number>, target: number, keep: (k: string, v: number) => boolean) {
  let best: [string, number] = ['', -1];
  for (const [k, v] of map) {
    if (!keep(k, v)) continue;
    if (best[1] < 0 || Math.abs(v - target) < Math.abs(best[1] - target)) best = [k, v];
  }
  return best;
}

async function main(): Promise<void> {
  const dataDir = sharedDataDir();
  fs.mkdirSync(WORK, { recursive: true });
  const serverDir = path.join(WORK, 'server');
  fs.rmSync(serverDir, { recursive: true, force: true });
  const started = new Date();
  const loadBefore = os.loadavg()[0] ?? 0;
  const phases: [string, number][] = [];
  let phaseStart = Date.now();
  const phase = (name: string) => {
    const now = Date.now();
    phases.push([name, (now - phaseStart) / 1000]);
    log(`-- ${name}: ${((now - phaseStart) / 1000).toFixed(1)} s`);
    phaseStart = now;
  };

  log(`loading corpus from the shared data; N=${N}`);
  const corpus = new Corpus(dataDir);
  const server = await startServer(serverDir);
  const { port, pid } = server;
  const base = BASE;
  const sections: Section[] = [];

  try {
    const datasetId = await createDataset(port, 'bench');

    log('generating and pre-serialising batches');
    const stats = new Stats();
    const dates = new Float64Array(N);
    const batches: Buffer[] = [];
    const gen = corpus.events(SEED);
    let bytes = 0;
    for (let done = 0; done < N; ) {
      const rows: BenchEvent[] = [];
      for (let k = 0; k < BATCH && done < N; k++, done++) {
        const e = gen.next().value as BenchEvent;
        stats.add(e);
        dates[done] = Date.parse(e.date);
        rows.push(e);
      }
      const buf = Buffer.from(JSON.stringify({ datasetId, data: rows }));
      bytes += buf.length;
      batches.push(buf);
    }
    log(`${batches.length} batches, ${(bytes / 1e6).toFixed(0)} MB, ${(bytes / N).toFixed(0)} bytes/event`);
    phase('generating the corpus');

    // 1. Bulk ingest over HTTP, sampling the server's memory as it goes.
    let peakRss = procStatus(pid, 'VmRSS');
    const poll = setInterval(() => {
      peakRss = Math.max(peakRss, procStatus(pid, 'VmRSS'));
    }, 100);
    const rssBefore = procStatus(pid, 'VmRSS');
    resetAgent();
    log('ingesting');
    const { stored, seconds: ingestSeconds } = await bulkIngest(port, batches, CONCURRENCY, 'main');
    clearInterval(poll);
    peakRss = Math.max(peakRss, procStatus(pid, 'VmRSS'), procStatus(pid, 'VmHWM'));
    const ingestRate = stored / ingestSeconds;
    log(`ingested ${stored} in ${ingestSeconds.toFixed(1)} s: ${ingestRate.toFixed(0)} events/s`);
    batches.length = 0;
    phase('main ingest');
    // 4. Query latency with the N events stored.
    const list = (search?: unknown, extra = ''): string => {
      const q = new URLSearchParams({ datasetId, pageSize: '50' });
      if (search) q.set('search', JSON.stringify(search));
      return `${base}/events?${q.toString()}${extra}`;
    };
    const [attacker, attackerN] = top(stats.attackers);
    const [indicator, indicatorN] = top(stats.indicators);
    const [commonTag, commonTagN] = top(stats.tags);
    const tagCounts = [...stats.tags.values()].filter((v) => v >= 50).sort((a, b) => a - b);
    const median = tagCounts[Math.floor(tagCounts.length / 2)] ?? 1;
    const [typicalTag, typicalTagN] = closest(
      stats.tags,
      median,
      (k, v) => v >= 50 && /^[a-z][a-z0-9-]+$/.test(k),
    );
    const [word, wordN] = closest(
      stats.words,
      N * 0.005,
      (k, v) => k.length >= 5 && /^[a-z]+$/.test(k) && v <= N * 0.01 && v >= N * 0.001,
    );

    const timings: Timing[] = [];
    const time = async (name: string, detail: string, url: string, targetMs: number) => {
      for (let i = 0; i < 5; i++) must(await request(port, 'GET', url), name);
      const ms: number[] = [];
      let totalCount = 0;
      for (let i = 0; i < QUERIES; i++) {
        const r = await request(port, 'GET', url);
        const body = must(r, name);
        totalCount = Number(body.result_info?.total_count ?? 0);
        ms.push(r.ms);
      }
      ms.sort((a, b) => a - b);
      const p99 = percentile(ms, 99);
      timings.push({
        name,
        detail,
        totalCount,
        p50: percentile(ms, 50),
        p99,
        target: `p99 < ${targetMs} ms`,
        ok: p99 < targetMs,
      });
      log(`${name}: p50 ${percentile(ms, 50).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`);
    };

    await time('first page', 'no search', list(), 20);
    await time(
      'attacker equals',
      `"${attacker}" (${attackerN} events)`,
      list([{ field: 'attacker', op: 'equals', value: attacker }]),
      20,
    );
    await time(
      'indicator equals',
      `${indicator} (${indicatorN} events)`,
      list([{ field: 'indicator', op: 'equals', value: indicator }]),
      20,
    );
    await time(
      'tags equals (common)',
      `"${commonTag}" (${commonTagN} events)`,
      list([{ field: 'tags', op: 'equals', value: commonTag }]),
      20,
    );
    await time(
      'tags equals (typical)',
      `"${typicalTag}" (${typicalTagN} events)`,
      list([{ field: 'tags', op: 'equals', value: typicalTag }]),
      20,
    );
    await time(
      'event find',
      `"${word}" (${wordN} events, ${((100 * wordN) / N).toFixed(2)} %)`,
      list([{ field: 'event', op: 'find', value: word }]),
      50,
    );

    // Deep cursor: walk with the largest page size until past offset 500,000, then time a
    // small page from there.
    const deepTarget = Math.min(500_000, Math.floor(N / 2));
    let cursor: string | undefined;
    let seen = 0;
    while (seen < deepTarget) {
      const url = cursor
        ? `${base}/events?cursor=${cursor}&pageSize=25000`
        : `${base}/events?${new URLSearchParams({ datasetId, pageSize: '25000' })}`;
      const body = must(await request(port, 'GET', url), 'deep walk');
      seen += (body.result as unknown[]).length;
      cursor = body.result_info?.cursor as string | undefined;
      if (!cursor) break;
    }
    if (cursor) {
      await time('deep cursor page', `after ${seen} rows`, `${base}/events?cursor=${cursor}&pageSize=50`, 20);
    }
    const rssAfterQueries = procStatus(pid, 'VmHWM');
    const dbBytes = dirSize(serverDir);
    phase('GET /events queries');

    // 5. Indicator look-ups, traversal, aggregation and STIX export on the same server.
    if (runs('indicators')) {
      sections.push(
        await indicatorLookups(server, corpus, {
          indicators: INDICATORS,
          perEvent: 3,
          queries: QUERIES,
          concurrency: CONCURRENCY,
          seed: SEED + 1,
        }),
      );
      phase('indicators');
    }
    if (runs('traversal')) {
      sections.push(
        await traversal(server, datasetId, {
          relationships: RELATIONSHIPS,
          queries: QUERIES,
          seed: SEED + 2,
          totalEvents: stored,
        }),
      );
      phase('traversal');
    }
    let agg: ServerAggregation | undefined;
    if (runs('aggregate')) {
      resetAgent();
      agg = await serverAggregation(server, datasetId, AGG_QUERIES);
      phase('aggregation (server)');
    }
    let exportSection: Section | undefined;
    if (runs('export')) {
      exportSection = await exportMemory(server, datasetId, {
        cap: EXPORT_EVENTS,
        dates,
        totalEvents: stored,
      });
      phase('STIX export');
    }

    await server.stop();

    if (agg) {
      const bare = sqliteAggregation(serverDir, ACCOUNT, datasetId, Math.min(AGG_QUERIES, 20));
      sections.push(aggregationSection(agg, bare, stored));
      phase('aggregation (bare SQLite)');
    }
    if (exportSection) sections.push(exportSection);
    if (runs('journal')) {
      sections.push(
        await journalCost(corpus, {
          events: JOURNAL_EVENTS,
          revertEvents: REVERT_EVENTS,
          concurrency: CONCURRENCY,
          seed: SEED + 3,
        }),
      );
      phase('journal and revert');
    }

    // 2. The bare better-sqlite3 reference, same rows, same schema, no server.
    let ref: { eventsPerSecond: number; seconds: number } | undefined;
    if (runs('reference')) {
      log('running the bare better-sqlite3 reference');
      ref = runReference(path.join(WORK, 'reference.db'), corpus.events(SEED), N, BATCH);
      log(`reference: ${ref.eventsPerSecond.toFixed(0)} events/s`);
      phase('bare reference');
    }
    const ratio = ref ? ingestRate / ref.eventsPerSecond : Number.NaN;

    const cpu =
      /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model;
    const load = `load average (1 min) ${loadBefore.toFixed(1)} at the start, ${(os.loadavg()[0] ?? 0).toFixed(1)} at the end`;
    const machine = `${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`;

    const summary = [
      '| Measure | Result | Target | Met |',
      '|---|---|---|---|',
      `| Bulk ingest over HTTP (${fmt(stored)} events, batches of ${BATCH}, ${CONCURRENCY} in flight) | ${fmt(ingestRate)} events/s (${ingestSeconds.toFixed(1)} s) | ≥ 25,000 events/s | ${ingestRate >= 25_000 ? 'yes' : 'no'} |`,
      ref
        ? `| Bare better-sqlite3 reference (same rows, schema, statements) | ${fmt(ref.eventsPerSecond)} events/s (${ref.seconds.toFixed(1)} s) | — | — |`
        : '| Bare better-sqlite3 reference | not run (BENCH_SKIP) | — | — |',
      ref
        ? `| Server / bare | ${(ratio * 100).toFixed(0)} % | ≥ 60 % | ${ratio >= 0.6 ? 'yes' : 'no'} |`
        : '| Server / bare | — | ≥ 60 % | — |',
      `| Peak RSS of the server during ingest | ${mib(peakRss)} (idle before: ${mib(rssBefore)}) | < 1 GiB | ${peakRss < 2 ** 30 ? 'yes' : 'no'} |`,
      `| Peak RSS after the queries | ${mib(rssAfterQueries)} | — | — |`,
      `| Data directory after ingest | ${mib(dbBytes)} | — | — |`,
    ];
    const queries = [
      `| GET /events, pageSize=50, datasetId | Value | total_count | p50 ms | p99 ms | Target | Met |`,
      '|---|---|---|---|---|---|---|',
      ...timings.map(
        (t) =>
          `| ${t.name} | ${t.detail.replace(/\|/g, '\\|')} | ${fmt(t.totalCount)} | ${t.p50.toFixed(2)} | ${t.p99.toFixed(2)} | ${t.target} | ${t.ok ? 'yes' : 'no'} |`,
      ),
    ];
    const command = `BENCH_EVENTS=${N} npm run bench`;
    const rendered = sections.flatMap(renderSection);
    const wall = [
      '## Wall time per part',
      '',
      '| Part | Seconds |',
      '|---|---|',
      ...phases.map(([name, s]) => `| ${name} | ${s.toFixed(1)} |`),
      '',
    ];
    process.stdout.write(
      `\n${summary.join('\n')}\n\n${queries.join('\n')}\n\n${rendered.join('\n')}\n${wall.join('\n')}\n${machine}; ${load}\n`,
    );

    const md = [
      '# Benchmark results',
      '',
      `Measured ${started.toISOString().slice(0, 10)} on ${machine}; ${load}.`,
      '',
      `Command: \`${command}\` (${QUERIES} timed requests per query after 5 warm-up requests, one at a time over a keep-alive connection).`,
      '',
      'The corpus is generated from the shared threat-intel data (real actors with their country, targeted',
      'sectors and ATT&CK techniques; real maltrail/ESET/JA3 indicators, 1–3 per event; 2–4 tags from',
      'maltrail family names, their aliases and generic tags; a ~300-byte raw payload per event),',
      `deterministically (seed ${SEED}). Average request body: ${(bytes / N).toFixed(0)} bytes per event.`,
      'The server is the real `bin/threatdesk.mjs serve` child process (WAL, synchronous=NORMAL); the client',
      'sends pre-serialised batches from the bench process.',
      '',
      '## Ingest',
      '',
      ...summary,
      '',
      '## Queries',
      '',
      ...queries,
      '',
      ...rendered,
      ...wall,
    ].join('\n');
    const resultsFile = process.env.BENCH_RESULTS ?? path.join(REPO, 'bench', 'RESULTS.md');
    // Hand-written analysis below "## Notes" survives a re-run; the measured part is replaced.
    const previous = fs.existsSync(resultsFile) ? fs.readFileSync(resultsFile, 'utf8') : '';
    const notesAt = previous.indexOf('\n## Notes');
    fs.writeFileSync(resultsFile, notesAt >= 0 ? md + previous.slice(notesAt) : md);
    log(`wrote ${path.relative(REPO, resultsFile)}`);
  } finally {
    await server.stop();
    closeAgent();
  }
}

await main();
