// Bare per-statement timing of the shard schema: the same rows, schema and statements as a
// server shard, with no server around them. Prints microseconds per event for each statement
// kind and for the commit. Used for the tables in bench/RESULTS.md ("Notes").
//
//   node --import tsx bench/experiments/statements.ts
//
// N events (default 200,000) in transactions of B (default 1,000); V is a comma list of
// variants: nofts (no full text), p4k (4 KiB pages), bigcache (512 MiB cache), bigwal (checkpoint
// every 1 GiB), syncoff (synchronous=OFF, only to see what checkpoint fsyncs cost), sorted (rows
// of a transaction in date order, tag and indicator links inserted afterwards in key order).
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { systemClock } from '../../src/domain/clock.ts';
import { eventKey, RandomIds } from '../../src/domain/ids.ts';
import { shardMigrations } from '../../src/store/migrations/shard.ts';

const INSERT_EVENT_TAG = 'INSERT OR IGNORE INTO event_tags (tag_id, date_ms, event_id) VALUES (?, ?, ?)';
const INSERT_EVENT_INDICATOR =
  'INSERT OR IGNORE INTO event_indicators (indicator_id, event_id) VALUES (?, ?)';

import { INSERT_EVENT, INSERT_FTS, INSERT_RAW } from '../../src/store/shard/shard.ts';
import { type BenchEvent, Corpus } from '../corpus.ts';
import { eventRow, timeBatches } from '../reference.ts';

const n = Number(process.env.N ?? 200_000);
const batch = Number(process.env.B ?? 1000);
const V = new Set((process.env.V ?? '').split(',').filter(Boolean));
const file = process.env.FILE ?? 'bench/.work/statements.db';
fs.mkdirSync('bench/.work', { recursive: true });
for (const s of ['', '-wal', '-shm']) fs.rmSync(file + s, { force: true });
const db = new Database(file);
db.pragma(`page_size = ${V.has('p4k') ? 4096 : 16384}`);
db.pragma('journal_mode = WAL');
db.pragma(V.has('syncoff') ? 'synchronous = OFF' : 'synchronous = NORMAL');
db.pragma(`cache_size = ${-1024 * (V.has('bigcache') ? 512 : 192)}`);
const walPages = (V.has('bigwal') ? 1024 : 512) * (V.has('p4k') ? 256 : 64);
db.pragma(`wal_autocheckpoint = ${walPages}`);
// The schema these figures were measured on: before block postings (shard migration 6).
for (const m of shardMigrations) if (m.version <= 5) db.exec(m.sql);
if (V.has('nofts')) db.exec('DROP TABLE events_fts');
const ins = {
  event: db.prepare(INSERT_EVENT),
  raw: db.prepare(INSERT_RAW),
  fts: V.has('nofts') ? null : db.prepare(INSERT_FTS),
  eventTag: db.prepare(INSERT_EVENT_TAG),
  eventIndicator: db.prepare(INSERT_EVENT_INDICATOR),
  tagName: db.prepare('INSERT INTO tag_names (name) VALUES (?)'),
  indicator: db.prepare(
    'INSERT INTO indicators (uuid, type, value, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?)',
  ),
};
const tagIds = new Map<string, number>();
const indicatorIds = new Map<string, number>();
const ids = new RandomIds(systemClock);
const times = { event: 0, raw: 0, tags: 0, indicators: 0, fts: 0, commit: 0 };
let clock = performance.now();
/** Adds the time since the last lap to `part`. */
const lap = (part: keyof typeof times) => {
  const now = performance.now();
  times[part] += now - clock;
  clock = now;
};

const sorted = V.has('sorted');

function insertBatch(input: BenchEvent[]): void {
  db.exec('BEGIN');
  const now = Date.now();
  clock = performance.now();
  const rows = sorted ? [...input].sort((a, b) => Date.parse(a.date) - Date.parse(b.date)) : input;
  const tagLinks: [number, number, number][] = [];
  const indicatorLinks: [number, number][] = [];
  for (const e of rows) {
    const uuid = ids.eventId();
    const id = eventKey(uuid) ?? 0;
    clock = performance.now();
    const { dateMs, refs, indicatorText, params } = eventRow(e, id, uuid, now, 'r');
    ins.event.run(...params);
    lap('event');
    ins.raw.run(id, 'r', e.raw.source, e.tlp, JSON.stringify(e.raw.data), now, now);
    lap('raw');
    for (const tag of e.tags) {
      let tagId = tagIds.get(tag);
      if (tagId === undefined) {
        tagId = Number(ins.tagName.run(tag).lastInsertRowid);
        tagIds.set(tag, tagId);
      }
      if (sorted) tagLinks.push([tagId, dateMs, id]);
      else ins.eventTag.run(tagId, dateMs, id);
    }
    lap('tags');
    for (const ref of refs) {
      const key = `${ref.type}\u0000${ref.value}`;
      let indicatorId = indicatorIds.get(key);
      if (indicatorId === undefined) {
        indicatorId = Number(ins.indicator.run(`u${key}`, ref.type, ref.value, now, now).lastInsertRowid);
        indicatorIds.set(key, indicatorId);
      }
      if (sorted) indicatorLinks.push([indicatorId, id]);
      else ins.eventIndicator.run(indicatorId, id);
    }
    lap('indicators');
    ins.fts?.run(id, e.event, e.insight ?? '', indicatorText);
    lap('fts');
  }
  if (sorted) {
    tagLinks.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
    for (const [t, d, i] of tagLinks) ins.eventTag.run(t, d, i);
    lap('tags');
    indicatorLinks.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (const [k, i] of indicatorLinks) ins.eventIndicator.run(k, i);
    lap('indicators');
  }
  db.exec('COMMIT');
  lap('commit');
}

const { seconds } = timeBatches(new Corpus().events(), n, batch, insertBatch);
db.close();
const perEvent = Object.fromEntries(
  Object.entries(times).map(([k, ms]) => [k, Math.round(((ms * 1000) / n) * 10) / 10]),
);
console.log(
  JSON.stringify({
    variants: [...V],
    n,
    batch,
    eventsPerSecond: Math.round(n / seconds),
    perEventUs: perEvent,
  }),
);
