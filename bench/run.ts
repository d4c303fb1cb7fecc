import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchEvent, Corpus, ftsWords, sharedDataDir } from './corpus.ts';
import { runReference } from './reference.ts';

// npm run bench — ingest and query benchmark against the real server. See bench/RESULTS.md.
// BENCH_EVENTS (default 1,000,000), BENCH_QUERIES (requests per query, default 200),
// BENCH_CONCURRENCY (bulk requests in flight, default 2), BENCH_RESULTS (where to write the
// Markdown, default bench/RESULTS.md), BENCH_SERVER_NODE_ARGS, THREATDESK_SHARED_DATA.

const REPO = fileURLToPath(new URL('../', import.meta.url));
const WORK = path.join(REPO, 'bench', '.work');
const N = envInt('BENCH_EVENTS', 1_000_000);
const QUERIES = envInt('BENCH_QUERIES', 200);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 2);
const BATCH = 1000;
const SEED = 42;
const ACCOUNT = 'b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0';
const TOKEN = 'bench-token-0123456789abcdef0123456789abcdef';

function envInt(name: string, fallback: number): number {
  const text = process.env[name];
  if (!text) return fallback;
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${text}`);
  return n;
}

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

interface Reply {
  status: number;
  body: string;
  ms: number;
}

// Keep-alive, but re-created after long pauses: the server closes idle sockets after 5 s.
let agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

function request(port: number, method: string, urlPath: string, body?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        agent,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          ...(body ? { 'content-type': 'application/json', 'content-length': body.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: Number(process.hrtime.bigint() - t0) / 1e6,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function must(reply: Reply, what: string): { result: unknown; result_info?: Record<string, unknown> } {
  if (reply.status >= 300) throw new Error(`${what}: HTTP ${reply.status}: ${reply.body.slice(0, 500)}`);
  return JSON.parse(reply.body) as { result: unknown; result_info?: Record<string, unknown> };
}

async function startServer(dataDir: string, port: number): Promise<ChildProcess> {
  // BENCH_SERVER_NODE_ARGS passes flags to the server's node, e.g. "--cpu-prof --cpu-prof-dir=bench/.work".
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, 'bin/threatdesk.mjs', 'serve'], {
    cwd: REPO,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      THREATDESK_DATA_DIR: dataDir,
      THREATDESK_BOOTSTRAP_ACCOUNT: ACCOUNT,
      THREATDESK_BOOTSTRAP_TOKEN: TOKEN,
      THREATDESK_LOG: 'off',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode}`);
    try {
      const r = await request(port, 'GET', '/healthz');
      if (r.status === 200) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not answer /healthz within 30 s');
}

function procStatus(pid: number, key: 'VmHWM' | 'VmRSS'): number {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)] as number;
}

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

  log(`loading corpus from the shared data; N=${N}`);
  const corpus = new Corpus(dataDir);
  const port = await freePort();
  const child = await startServer(serverDir, port);
  const pid = child.pid ?? 0;
  const base = `/client/v4/accounts/${ACCOUNT}/cloudforce-one`;
  let exitedEarly = false;
  child.once('exit', () => {
    exitedEarly = true;
  });

  try {
    const ds = must(
      await request(
        port,
        'POST',
        `${base}/events/dataset/create`,
        Buffer.from(JSON.stringify({ name: 'bench', isPublic: false })),
      ),
      'dataset create',
    ).result as { uuid: string };
    const datasetId = ds.uuid;

    log('generating and pre-serialising batches');
    const stats = new Stats();
    const batches: Buffer[] = [];
    const gen = corpus.events(SEED);
    let bytes = 0;
    for (let done = 0; done < N; ) {
      const rows: BenchEvent[] = [];
      for (let k = 0; k < BATCH && done < N; k++, done++) {
        const e = gen.next().value as BenchEvent;
        stats.add(e);
        rows.push(e);
      }
      const buf = Buffer.from(JSON.stringify({ datasetId, data: rows }));
      bytes += buf.length;
      batches.push(buf);
    }
    log(`${batches.length} batches, ${(bytes / 1e6).toFixed(0)} MB, ${(bytes / N).toFixed(0)} bytes/event`);

    // 1. Bulk ingest over HTTP, sampling the server's memory as it goes.
    let peakRss = procStatus(pid, 'VmRSS');
    const poll = setInterval(() => {
      peakRss = Math.max(peakRss, procStatus(pid, 'VmRSS'));
    }, 100);
    const rssBefore = procStatus(pid, 'VmRSS');
    agent.destroy();
    agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    log('ingesting');
    const t0 = process.hrtime.bigint();
    let next = 0;
    let stored = 0;
    const worker = async () => {
      while (next < batches.length) {
        const i = next++;
        const reply = must(
          await request(port, 'POST', `${base}/events/create/bulk`, batches[i] as Buffer),
          `bulk ${i}`,
        ).result as { createdEventsCount: number; errorCount: number };
        if (reply.errorCount > 0) throw new Error(`bulk ${i}: ${reply.errorCount} events rejected`);
        stored += reply.createdEventsCount;
        if (i % 100 === 99) log(`  ${stored} events`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const ingestSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    clearInterval(poll);
    peakRss = Math.max(peakRss, procStatus(pid, 'VmRSS'), procStatus(pid, 'VmHWM'));
    const ingestRate = stored / ingestSeconds;
    log(`ingested ${stored} in ${ingestSeconds.toFixed(1)} s: ${ingestRate.toFixed(0)} events/s`);
    batches.length = 0;

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

    child.kill('SIGTERM');
    await new Promise((r) => (exitedEarly ? r(undefined) : child.once('exit', r)));

    // 2. The bare better-sqlite3 reference, same rows, same schema, no server.
    log('running the bare better-sqlite3 reference');
    const ref = runReference(path.join(WORK, 'reference.db'), corpus.events(SEED), N, BATCH);
    log(`reference: ${ref.eventsPerSecond.toFixed(0)} events/s`);
    const ratio = ingestRate / ref.eventsPerSecond;

    const cpu =
      /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model;
    const load = `load average (1 min) ${loadBefore.toFixed(1)} at the start, ${(os.loadavg()[0] ?? 0).toFixed(1)} at the end`;
    const machine = `${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`;
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    const dbBytes = dirSize(serverDir);

    const summary = [
      '| Measure | Result | Target | Met |',
      '|---|---|---|---|',
      `| Bulk ingest over HTTP (${fmt(stored)} events, batches of ${BATCH}, ${CONCURRENCY} in flight) | ${fmt(ingestRate)} events/s (${ingestSeconds.toFixed(1)} s) | ≥ 25,000 events/s | ${ingestRate >= 25_000 ? 'yes' : 'no'} |`,
      `| Bare better-sqlite3 reference (same rows, schema, statements) | ${fmt(ref.eventsPerSecond)} events/s (${ref.seconds.toFixed(1)} s) | — | — |`,
      `| Server / bare | ${(ratio * 100).toFixed(0)} % | ≥ 60 % | ${ratio >= 0.6 ? 'yes' : 'no'} |`,
      `| Peak RSS of the server during ingest | ${mb(peakRss)} (idle before: ${mb(rssBefore)}) | < 1 GiB | ${peakRss < 2 ** 30 ? 'yes' : 'no'} |`,
      `| Peak RSS after the queries | ${mb(rssAfterQueries)} | — | — |`,
      `| Data directory after ingest | ${mb(dbBytes)} | — | — |`,
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
    process.stdout.write(`\n${summary.join('\n')}\n\n${queries.join('\n')}\n\n${machine}; ${load}\n`);

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
    ].join('\n');
    const resultsFile = process.env.BENCH_RESULTS ?? path.join(REPO, 'bench', 'RESULTS.md');
    // Hand-written analysis below "## Notes" survives a re-run; the measured part is replaced.
    const previous = fs.existsSync(resultsFile) ? fs.readFileSync(resultsFile, 'utf8') : '';
    const notesAt = previous.indexOf('\n## Notes');
    fs.writeFileSync(resultsFile, notesAt >= 0 ? md + previous.slice(notesAt) : md);
    log(`wrote ${path.relative(REPO, resultsFile)}`);
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    agent.destroy();
  }
}

function dirSize(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}

await main();
