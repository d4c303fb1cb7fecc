import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Helpers shared by the bench's parts: the server child process, HTTP, /proc sampling, stats.

export const REPO = fileURLToPath(new URL('../', import.meta.url));
/** Scratch space for data directories and the reference file: BENCH_WORK, default bench/.work. */
export const WORK = path.resolve(REPO, process.env.BENCH_WORK ?? path.join('bench', '.work'));
export const ACCOUNT = 'b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0';
export const TOKEN = 'bench-token-0123456789abcdef0123456789abcdef';
export const BASE = `/client/v4/accounts/${ACCOUNT}/cloudforce-one`;

export function envInt(name: string, fallback: number): number {
  const text = process.env[name];
  if (!text) return fallback;
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${text}`);
  return n;
}

export const log = (line: string): void => {
  process.stderr.write(`bench: ${line}\n`);
};

export async function freePort(): Promise<number> {
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

export interface Reply {
  status: number;
  body: string;
  ms: number;
}

// Keep-alive, but re-created after long pauses: the server closes idle sockets after 5 s.
let agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

/** Drops the pooled sockets (after a long pause, or before a timed phase). */
export function resetAgent(): void {
  agent.destroy();
  agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
}

export function closeAgent(): void {
  agent.destroy();
}

export function request(port: number, method: string, urlPath: string, body?: Buffer): Promise<Reply> {
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

/** A GET whose body is counted as it arrives and never kept (for multi-GB streams). */
export function streamGet(
  port: number,
  urlPath: string,
): Promise<{ status: number; bytes: number; firstByteMs: number; ms: number; head: string; tail: string }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - t0) / 1e6;
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'GET',
        path: urlPath,
        agent,
        headers: { authorization: `Bearer ${TOKEN}` },
      },
      (res) => {
        let bytes = 0;
        let firstByteMs = -1;
        let head = '';
        let tail: Buffer = Buffer.alloc(0);
        res.on('data', (c: Buffer) => {
          if (firstByteMs < 0) firstByteMs = elapsed();
          if (head.length < 200) head += c.subarray(0, 200 - head.length).toString('utf8');
          bytes += c.length;
          tail = c.length >= 200 ? c.subarray(c.length - 200) : Buffer.concat([tail, c]).subarray(-200);
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            bytes,
            firstByteMs,
            ms: elapsed(),
            head,
            tail: tail.toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export interface Envelope {
  result: unknown;
  result_info?: Record<string, unknown>;
}

export function must(reply: Reply, what: string): Envelope {
  if (reply.status >= 300) throw new Error(`${what}: HTTP ${reply.status}: ${reply.body.slice(0, 500)}`);
  return JSON.parse(reply.body) as Envelope;
}

export const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

/** A running server child process and where it listens. */
export interface Server {
  child: ChildProcess;
  port: number;
  pid: number;
  dataDir: string;
  /** Stops it with SIGTERM and waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts `bin/threatdesk.mjs serve` on a free port over `dataDir`. `env` adds or overrides
 * variables; a variable set to undefined is removed.
 */
export async function startServer(
  dataDir: string,
  env: Record<string, string | undefined> = {},
): Promise<Server> {
  const port = await freePort();
  // BENCH_SERVER_NODE_ARGS passes flags to the server's node, e.g. "--cpu-prof --cpu-prof-dir=bench/.work".
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    THREATDESK_DATA_DIR: dataDir,
    THREATDESK_BOOTSTRAP_ACCOUNT: ACCOUNT,
    THREATDESK_BOOTSTRAP_TOKEN: TOKEN,
    THREATDESK_LOG: 'off',
    ...env,
  })) {
    if (v !== undefined) childEnv[k] = v;
  }
  const child = spawn(process.execPath, [...nodeArgs, 'bin/threatdesk.mjs', 'serve'], {
    cwd: REPO,
    env: childEnv,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const server: Server = {
    child,
    port,
    pid: child.pid ?? 0,
    dataDir,
    stop: async () => {
      if (exited) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await done;
    },
  };
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode}`);
    try {
      const r = await request(port, 'GET', '/healthz');
      if (r.status === 200) return server;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGTERM');
  throw new Error('server did not answer /healthz within 30 s');
}

export function procStatus(pid: number, key: 'VmHWM' | 'VmRSS'): number {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Resets the process's peak RSS (VmHWM) to its current RSS; false where the kernel does not allow it. */
export function resetPeakRss(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)] as number;
}

/** p50 and p99 of a list of milliseconds. */
export function summarise(ms: readonly number[]): { p50: number; p99: number; max: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? 0 };
}

/** Sends pre-serialised bulk bodies, `concurrency` in flight; answers the events stored and the seconds. */
export async function bulkIngest(
  port: number,
  bodies: readonly Buffer[],
  concurrency: number,
  label: string,
): Promise<{ stored: number; seconds: number }> {
  const t0 = process.hrtime.bigint();
  let next = 0;
  let stored = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const i = next++;
      const reply = must(
        await request(port, 'POST', `${BASE}/events/create/bulk`, bodies[i] as Buffer),
        `${label} bulk ${i}`,
      ).result as { createdEventsCount: number; errorCount: number };
      if (reply.errorCount > 0) throw new Error(`${label} bulk ${i}: ${reply.errorCount} events rejected`);
      stored += reply.createdEventsCount;
      if (i % 100 === 99) log(`  ${label}: ${stored} events`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { stored, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

/** A bulk body `{"datasetId": …, "data": <dataJson>}` around an already serialised data array. */
export function bulkBody(datasetId: string, dataJson: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`{"datasetId":${JSON.stringify(datasetId)},"data":`),
    dataJson,
    Buffer.from('}'),
  ]);
}

export async function createDataset(port: number, name: string): Promise<string> {
  const ds = must(
    await request(port, 'POST', `${BASE}/events/dataset/create`, json({ name, isPublic: false })),
    'dataset create',
  ).result as { uuid: string };
  return ds.uuid;
}

/** total_count of a dataset's events. */
export async function countEvents(port: number, datasetId: string): Promise<number> {
  const q = new URLSearchParams({ datasetId, pageSize: '1' });
  const body = must(await request(port, 'GET', `${BASE}/events?${q}`), 'count events');
  return Number(body.result_info?.total_count ?? Number.NaN);
}

export function dirSize(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}

/** mulberry32: small, fast, deterministic. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
export const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
export const yes = (ok: boolean): string => (ok ? 'yes' : 'no');
