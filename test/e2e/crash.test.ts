/**
 * Crash safety of the real server: bulk ingestion from several concurrent clients, the process
 * killed with SIGKILL at seeded random moments, restarted on the same data directory, and the
 * data checked after every restart:
 *   - every event of a request answered 202 is there, with the fields and raw payload sent, and
 *     is found by its request's tag and by its own indicator;
 *   - no request is half-applied: of each request's valid items, all are stored or none;
 *   - a request seen stored (or not) after one restart is seen the same after every later one;
 *   - nothing else is stored, and total_count adds up.
 * Plus SIGTERM with several requests in flight: each one answered is stored whole, exit code 0.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TestServer } from './server.ts';

const SEED = 0x5eed_c0de;
const KILLS = 6;
const WORKERS = 4;
const BATCH = 200;
const INVALID_PER_BATCH = 3;
const VALID_PER_BATCH = BATCH - INVALID_PER_BATCH;
/**
 * Small enough that the run rolls over several shards. A request never straddles two shards
 * (it goes whole into a new one when it does not fit), so each request stays atomic across
 * rollovers too.
 */
const SHARD_MAX_EVENTS = VALID_PER_BATCH * 15;

/** mulberry32: a small seeded generator, so the kill moments are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sent {
  category: string;
  date: string;
  event: string;
  raw: { data: Record<string, unknown>; source: string };
  tlp: string;
  attacker: string;
  indicator: string;
  indicatorType: string;
  tags: string[];
  targetIndustry: string;
  insight: string;
}

interface Request {
  n: number;
  valid: Sent[];
  /** 202, another status, or the transport error (the process died under it). */
  outcome: number | 'error' | 'pending';
  /** Stored or not, as first seen after a restart; it must stay so. */
  stored?: boolean;
  /** Raw payloads and searches already checked once. */
  deepChecked?: boolean;
}

interface Listed {
  uuid: string;
  event: string;
  date: string;
  category: string;
  tlp: string;
  attacker: string;
  indicator: string;
  indicatorType: string;
  tags: string[];
  targetIndustry: string;
  insight?: string;
}

function batch(n: number, random: () => number, size = BATCH): { data: unknown[]; valid: Sent[] } {
  const bad = new Set<number>();
  while (bad.size < INVALID_PER_BATCH) bad.add(Math.floor(random() * size));
  const data: unknown[] = [];
  const valid: Sent[] = [];
  for (let i = 0; i < size; i++) {
    if (bad.has(i)) {
      data.push({
        category: 'Malware',
        date: 'not a date',
        event: `bad r${n} e${i}`,
        raw: { data: null },
        tlp: 'red',
      });
      continue;
    }
    const sent: Sent = {
      category: 'Malware',
      date: new Date(Date.UTC(2024, 0, 1) + n * 1_000_000 + i * 1000).toISOString(),
      event: `crash r${n} e${i}`,
      raw: { data: { n, i, pad: 'x'.repeat(64) }, source: 'crash-feed' },
      tlp: 'green',
      attacker: `Group ${n % 7}`,
      indicator: `e${i}.r${n}.crash.example`,
      indicatorType: 'domain',
      tags: ['crash', `req-${n}`],
      targetIndustry: 'Energy',
      insight: `request ${n} item ${i}`,
    };
    data.push(sent);
    valid.push(sent);
  }
  return { data, valid };
}

class Api {
  constructor(private readonly server: TestServer) {}

  private get base(): string {
    return `${this.server.baseURL}/accounts/${this.server.account}/cloudforce-one`;
  }

  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary result shapes
  async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.server.token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  }

  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary result shapes
  async ok(method: string, path: string, body?: unknown): Promise<any> {
    const res = await this.call(method, path, body);
    if (res.status !== 200)
      throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.json)}`);
    return res.json;
  }

  /** Every event of the dataset, by cursor, with the first page's total_count. */
  async listAll(datasetId: string): Promise<{ events: Listed[]; total: number }> {
    const events: Listed[] = [];
    let page = await this.ok('GET', `/events?datasetId=${datasetId}&pageSize=25000`);
    const total = page.result_info.total_count as number;
    for (;;) {
      events.push(...(page.result as Listed[]));
      const cursor = page.result_info.cursor as string | undefined;
      if (!cursor || page.result.length === 0) break;
      page = await this.ok('GET', `/events?cursor=${encodeURIComponent(cursor)}&pageSize=25000`);
    }
    return { events, total };
  }
}

/** Checks what is stored against what was sent; answers the number of events stored. */
async function verify(api: Api, datasetId: string, requests: readonly Request[]): Promise<number> {
  const { events, total } = await api.listAll(datasetId);
  const byText = new Map<string, Listed>();
  for (const e of events) {
    expect(byText.has(e.event), `stored twice: ${e.event}`).toBe(false);
    byText.set(e.event, e);
  }
  let expected = 0;
  for (const r of requests) {
    const present = r.valid.filter((s) => byText.has(s.event)).length;
    const label = `request ${r.n} (answered ${r.outcome})`;
    expect([0, r.valid.length], `${label}: ${present} of ${r.valid.length} stored`).toContain(present);
    if (r.outcome === 202) expect(present, `${label}: answered 202 but not stored`).toBe(r.valid.length);
    if (r.outcome !== 202 && r.outcome !== 'error' && r.outcome !== 'pending')
      expect(present, `${label}: refused but stored`).toBe(0);
    const stored = present > 0;
    if (r.stored !== undefined)
      expect(stored, `${label}: was ${r.stored ? '' : 'not '}stored before`).toBe(r.stored);
    r.stored = stored;
    if (!stored) continue;
    expected += present;
    for (const s of r.valid) {
      const e = byText.get(s.event) as Listed;
      byText.delete(s.event);
      expect(
        {
          category: e.category,
          date: e.date,
          tlp: e.tlp,
          attacker: e.attacker,
          indicator: e.indicator,
          indicatorType: e.indicatorType,
          tags: e.tags,
          targetIndustry: e.targetIndustry,
          insight: e.insight,
        },
        `${label}: ${s.event}`,
      ).toEqual({
        category: s.category,
        date: s.date,
        tlp: s.tlp,
        attacker: s.attacker,
        indicator: s.indicator,
        indicatorType: s.indicatorType,
        tags: s.tags,
        targetIndustry: s.targetIndustry,
        insight: s.insight,
      });
    }
  }
  expect([...byText.keys()], 'stored but never sent').toEqual([]);
  expect(events.length).toBe(expected);
  expect(total).toBe(expected);

  // Raw payloads and the indexes: once per stored request (first, middle and last valid item).
  for (const r of requests) {
    if (!r.stored || r.deepChecked) continue;
    r.deepChecked = true;
    const tagged = await api.ok(
      'GET',
      `/events?datasetId=${datasetId}&pageSize=1&search=${encodeURIComponent(JSON.stringify([{ field: 'tags', op: 'equals', value: `req-${r.n}` }]))}`,
    );
    expect(tagged.result_info.total_count, `request ${r.n}: search by its tag`).toBe(r.valid.length);
    for (const s of [r.valid[0], r.valid[Math.floor(r.valid.length / 2)], r.valid.at(-1)] as Sent[]) {
      const found = await api.ok(
        'GET',
        `/events?datasetId=${datasetId}&search=${encodeURIComponent(JSON.stringify([{ field: 'indicator', op: 'equals', value: s.indicator }]))}`,
      );
      expect(
        found.result.map((e: Listed) => e.event),
        `request ${r.n}: search by ${s.indicator}`,
      ).toEqual([s.event]);
      const raw = await api.ok('GET', `/events/raw/${datasetId}/${found.result[0].uuid}`);
      expect(raw.result.data, `request ${r.n}: raw payload of ${s.event}`).toEqual(s.raw.data);
      expect(raw.result.source).toBe(s.raw.source);
    }
  }
  return expected;
}

describe('e2e: crash safety', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.dispose()));
  });

  it(`keeps every answered bulk request whole across ${KILLS} SIGKILLs, and no request half-applied`, async () => {
    const random = seeded(SEED);
    const server = new TestServer({ env: { THREATDESK_SHARD_MAX_EVENTS: String(SHARD_MAX_EVENTS) } });
    servers.push(server);
    await server.start();
    const api = new Api(server);
    const datasetId = (await api.ok('POST', '/events/dataset/create', { name: 'Crash', isPublic: false }))
      .result.uuid as string;
    const requests: Request[] = [];
    const timings: string[] = [];

    for (let kill = 0; kill < KILLS; kill++) {
      let stop = false;
      const worker = async () => {
        while (!stop) {
          const n = requests.length;
          const { data, valid } = batch(n, random);
          const r: Request = { n, valid, outcome: 'pending' };
          requests.push(r);
          try {
            const res = await api.call('POST', '/events/create/bulk', { datasetId, data });
            r.outcome = res.status;
            if (res.status === 202) expect(res.json.result.createdEventsCount).toBe(VALID_PER_BATCH);
          } catch {
            r.outcome = 'error';
          }
        }
      };
      const workers = Array.from({ length: WORKERS }, worker);
      // Long enough for a few hundred requests at most; the moment itself is random.
      await sleep(250 + Math.floor(random() * 700));
      stop = true;
      await server.kill('SIGKILL');
      await Promise.all(workers);
      const inFlight = requests.filter((r) => r.outcome === 'error').length;

      const started = Date.now();
      await server.start();
      const restartMs = Date.now() - started;
      const stored = await verify(api, datasetId, requests);
      const cutButStored = requests.filter((r) => r.outcome === 'error' && r.stored).length;
      timings.push(
        `kill ${kill + 1}: ${requests.length} requests so far, ${inFlight} cut by kills (${cutButStored} of them committed before the kill), ${stored} events stored, restart ${restartMs} ms`,
      );
    }
    console.log(timings.join('\n'));
    const answered = requests.filter((r) => r.outcome === 202).length;
    expect(answered).toBeGreaterThan(KILLS);
    expect(requests.some((r) => r.outcome === 'error')).toBe(true);
    expect(server.stderr).toBe('');

    // And it still takes writes after the last restart.
    const { data, valid } = batch(requests.length, random);
    const after: Request = { n: requests.length, valid, outcome: 'pending' };
    requests.push(after);
    after.outcome = (await api.call('POST', '/events/create/bulk', { datasetId, data })).status;
    expect(after.outcome).toBe(202);
    await verify(api, datasetId, requests);
  }, 120_000);

  it('on SIGTERM finishes the requests in flight, stores each answered one whole and nothing else, exits 0', async () => {
    const server = new TestServer();
    servers.push(server);
    await server.start();
    const api = new Api(server);
    const datasetId = (await api.ok('POST', '/events/dataset/create', { name: 'Drain', isPublic: false }))
      .result.uuid as string;
    const random = seeded(SEED + 1);
    const requests: Request[] = [];
    const sends: Promise<void>[] = [];
    for (let k = 0; k < 6; k++) {
      // Big requests, so they are still being stored when the signal comes.
      const { data, valid } = batch(k, random, 2000);
      const r: Request = { n: k, valid, outcome: 'pending' };
      requests.push(r);
      sends.push(
        api.call('POST', '/events/create/bulk', { datasetId, data }).then(
          (res) => {
            r.outcome = res.status;
          },
          () => {
            r.outcome = 'error';
          },
        ),
      );
    }
    await sleep(150);
    const exitCode = await server.stop();
    await Promise.all(sends);
    expect(exitCode).toBe(0);
    expect(server.stderr).toBe('');
    // The first requests were being stored when the signal came: they were answered 202.
    expect(requests.some((r) => r.outcome === 202)).toBe(true);
    const outcomes = requests.map((r) => r.outcome);

    await server.start();
    // 202: stored whole; 503 (refused, shutting down): nothing stored. A request the server had
    // not read yet when the signal came is cut off with its connection: nothing stored either,
    // so a client may send it again.
    await verify(api, datasetId, requests);
    for (const r of requests) {
      if (r.outcome !== 202) expect(r.stored, `request ${r.n} (${JSON.stringify(outcomes)})`).toBe(false);
    }
  }, 60_000);
});
