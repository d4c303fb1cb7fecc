import fs from 'node:fs';
import { systemClock } from '../src/domain/clock.ts';
import type { NewEvent } from '../src/domain/events/model.ts';
import { eventKey, RandomIds } from '../src/domain/ids.ts';
import { BetterSqlite, SHARD_TUNING } from '../src/runtime/node/sqlite.ts';
import { shardMigrations } from '../src/store/migrations/shard.ts';
import { EVENT_PARAMS, RAW_PARAMS, STRIDE, toBatch } from '../src/store/shard/batch.ts';
import { Postings } from '../src/store/shard/postings.ts';
import { INSERT_EVENT, INSERT_FTS, INSERT_RAW, POSTING_BLOCK } from '../src/store/shard/shard.ts';
import type { BenchEvent } from './corpus.ts';

/** What the bare reference measured. */
export interface ReferenceResult {
  events: number;
  seconds: number;
  eventsPerSecond: number;
}

/**
 * A corpus event as a shard stores it: the parameters of INSERT_EVENT and INSERT_RAW (encoded as
 * the server encodes them, store/shard/batch.ts), its indicator references (the single pair
 * first, as the server stores them) and their full-text words. Shared by the reference and the
 * experiments in bench/experiments/.
 */
export function eventRow(e: BenchEvent, id: number, uuid: string, now: number, rawId: string) {
  const dateMs = Date.parse(e.date);
  const refs = [
    { type: e.indicatorType, value: e.indicator },
    ...e.indicators.map((i) => ({ type: i.indicatorType, value: i.value })),
  ];
  const event: NewEvent = {
    id,
    uuid,
    dateMs,
    createdMs: now,
    updatedMs: now,
    attacker: e.attacker,
    attackerCountry: e.attackerCountry,
    category: e.category,
    event: e.event,
    indicator: e.indicator,
    indicatorType: e.indicatorType,
    insight: e.insight ?? null,
    killChain: e.killChain,
    mitreAttack: e.mitreAttack,
    mitreCapec: [],
    tags: e.tags,
    indicators: refs,
    targetCountry: e.targetCountry,
    targetIndustry: e.targetIndustry,
    tlp: e.tlp,
    releasabilityId: null,
    rawId,
    hasChildren: false,
    source: null,
    raw: { rawId, source: e.raw.source, tlp: e.tlp, data: e.raw.data, createdMs: now, updatedMs: now },
  };
  const { values } = toBatch([event]);
  return {
    dateMs,
    refs,
    indicatorText: values[STRIDE - 1] as string,
    params: values.slice(0, EVENT_PARAMS),
    rawParams: values.slice(EVENT_PARAMS, EVENT_PARAMS + RAW_PARAMS),
  };
}

/**
 * Feeds `n` corpus events to `insert` in batches of `batch` and answers the seconds spent in it.
 * Each batch is materialised first, so only the database work is timed, as the server's client
 * pre-serialises its batches. `onProgress` runs after each batch. Shared by the reference and
 * the experiments in bench/experiments/.
 */
export function timeBatches(
  events: Iterator<BenchEvent>,
  n: number,
  batch: number,
  insert: (rows: BenchEvent[]) => void,
  onProgress?: (done: number, seconds: number) => void,
): { done: number; seconds: number } {
  let done = 0;
  let seconds = 0;
  while (done < n) {
    const rows: BenchEvent[] = [];
    for (let k = 0; k < batch && done + k < n; k++) {
      const next = events.next();
      if (next.done) break;
      rows.push(next.value);
    }
    if (rows.length === 0) break;
    const t0 = performance.now();
    insert(rows);
    seconds += (performance.now() - t0) / 1000;
    done += rows.length;
    onProgress?.(done, seconds);
  }
  return { done, seconds };
}

/**
 * The ceiling for ingest on this machine: the same rows into the same schema, indexes and
 * per-row statements as a shard, in transactions of `batch`, with the same pragmas
 * (WAL, synchronous=NORMAL), and no HTTP, JSON, validation or server around it. The look-ups
 * by tag, attacker and indicator are the shard's block postings (the same module: they are
 * part of the schema), listed and sealed inside the same transactions.
 */
export function runReference(
  file: string,
  events: Iterator<BenchEvent>,
  n: number,
  batch = 1000,
): ReferenceResult {
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
  // The same connection settings as a server shard: WAL, synchronous=NORMAL, cache, page size.
  const conn = new BetterSqlite(file, { ...SHARD_TUNING, cacheMiB: 192 });
  const db = conn.db;
  for (const m of shardMigrations) db.exec(m.sql);
  const ins = {
    event: db.prepare(INSERT_EVENT),
    raw: db.prepare(INSERT_RAW),
    fts: db.prepare(INSERT_FTS),
    indicator: db.prepare(
      'INSERT INTO indicators (uuid, type, value, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?)',
    ),
  };
  const postings = new Postings(conn, POSTING_BLOCK);
  postings.load();
  const indicatorIds = new Map<string, number>();
  const ids = new RandomIds(systemClock);

  const insertBatch = db.transaction((rows: BenchEvent[]) => {
    const now = Date.now();
    for (const e of rows) {
      const uuid = ids.eventId();
      const id = eventKey(uuid) ?? 0;
      const { dateMs, refs, indicatorText, params, rawParams } = eventRow(
        e,
        id,
        uuid,
        now,
        crypto.randomUUID(),
      );
      ins.event.run(...params);
      ins.raw.run(...rawParams);
      for (const ref of refs) {
        const key = `${ref.type}\u0000${ref.value}`;
        if (!indicatorIds.has(key)) {
          ins.indicator.run(crypto.randomUUID(), ref.type, ref.value, now, now);
          indicatorIds.set(key, 1);
        }
      }
      ins.fts.run(id, e.event, e.insight ?? '', indicatorText);
      postings.add([{ id, dateMs, attacker: e.attacker, tags: e.tags, indicators: refs }]);
    }
    postings.sealDue();
  });

  const { done, seconds } = timeBatches(events, n, batch, insertBatch);
  conn.close();
  return { events: done, seconds, eventsPerSecond: done / seconds };
}
