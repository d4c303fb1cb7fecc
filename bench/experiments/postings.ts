// Prototype of the storage layout that the ingest target needs (bench/RESULTS.md, "Notes"):
// append-only rows keyed by the time-ordered id (no secondary B-tree index), FTS5 as in a
// shard, and the tag, attacker and indicator look-ups kept as in-memory posting lists of the
// open block, sealed into one blob per key every BLOCK events. Only the write side is modelled.
//
//   node --import tsx bench/experiments/postings.ts
//
// N events (default 1,000,000) in transactions of B (default 1,000), BLOCK (default 65,536);
// V=words indexes words as postings too instead of FTS5.
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { systemClock } from '../../src/domain/clock.ts';
import { eventKey, RandomIds } from '../../src/domain/ids.ts';
import { shardMigrations } from '../../src/store/migrations/shard.ts';
import { INSERT_EVENT, INSERT_FTS, INSERT_RAW } from '../../src/store/shard/shard.ts';
import { type BenchEvent, Corpus } from '../corpus.ts';
import { eventRow, timeBatches } from '../reference.ts';

const n = Number(process.env.N ?? 1_000_000);
const batch = Number(process.env.B ?? 1000);
const blockSize = Number(process.env.BLOCK ?? 65_536);
const words = (process.env.V ?? '').split(',').includes('words');
const file = process.env.FILE ?? 'bench/.work/postings.db';
fs.mkdirSync('bench/.work', { recursive: true });
for (const s of ['', '-wal', '-shm']) fs.rmSync(file + s, { force: true });
const db = new Database(file);
db.pragma('page_size = 16384');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('cache_size = -196608');
db.pragma('wal_autocheckpoint = 65536');
// The schema of the time, before block postings (shard migration 6).
for (const m of shardMigrations) if (m.version <= 5) db.exec(m.sql);
db.exec('DROP INDEX events_date; DROP INDEX events_attacker;');
db.exec('CREATE TABLE postings (id INTEGER PRIMARY KEY, field INTEGER, key TEXT, block INTEGER, rows BLOB)');
db.exec('CREATE INDEX postings_key ON postings (field, key, block)');
const ins = {
  event: db.prepare(INSERT_EVENT),
  raw: db.prepare(INSERT_RAW),
  fts: db.prepare(INSERT_FTS),
  posting: db.prepare('INSERT INTO postings (field, key, block, rows) VALUES (?, ?, ?, ?)'),
};
const ids = new RandomIds(systemClock);
const FIELDS = 4; // tag, attacker, indicator, word
const newBlock = () => Array.from({ length: FIELDS }, () => new Map<string, number[]>());
let open = newBlock();
let block = 0;
let rowsInBlock = 0;
let ordinal = 0;
const add = (field: number, key: string, row: number) => {
  const map = open[field] as Map<string, number[]>;
  const list = map.get(key);
  if (list) list.push(row);
  else map.set(key, [row]);
};
const WORD = /[\p{L}\p{N}]+/gu;
const times = { row: 0, raw: 0, postings: 0, fts: 0, commit: 0, seal: 0 };
let clock = performance.now();
const lap = (part: keyof typeof times) => {
  const now = performance.now();
  times[part] += now - clock;
  clock = now;
};

function seal(): void {
  for (let field = 0; field < FIELDS; field++) {
    for (const [key, list] of open[field] as Map<string, number[]>) {
      ins.posting.run(field, key, block, Buffer.from(new Uint32Array(list).buffer));
    }
  }
  open = newBlock();
  block++;
  rowsInBlock = 0;
}

function insertBatch(rows: BenchEvent[]): void {
  db.exec('BEGIN');
  const now = Date.now();
  clock = performance.now();
  for (const e of rows) {
    const uuid = ids.eventId();
    const id = eventKey(uuid) ?? 0;
    const { refs, indicatorText, params } = eventRow(e, id, uuid, now, 'r');
    ins.event.run(...params);
    lap('row');
    ins.raw.run(id, 'r', e.raw.source, e.tlp, JSON.stringify(e.raw.data), now, now);
    lap('raw');
    const row = ordinal++;
    for (const tag of e.tags) add(0, tag, row);
    add(1, e.attacker, row);
    for (const r of refs) add(2, `${r.type}\u0000${r.value}`, row);
    if (words) {
      const text = `${e.event} ${e.insight ?? ''} ${indicatorText}`.toLowerCase();
      for (const word of new Set(text.match(WORD) ?? [])) add(3, word, row);
    }
    lap('postings');
    if (!words) ins.fts.run(id, e.event, e.insight ?? '', indicatorText);
    lap('fts');
    if (++rowsInBlock >= blockSize) {
      seal();
      lap('seal');
    }
  }
  db.exec('COMMIT');
  lap('commit');
}

const marks: Record<number, number> = {};
const { seconds } = timeBatches(new Corpus().events(), n, batch, insertBatch, (done, spent) => {
  if (done % 200_000 === 0) marks[done] = Math.round(done / spent);
});
db.close();
console.log(
  JSON.stringify({
    words,
    n,
    batch,
    eventsPerSecond: Math.round(n / seconds),
    eventsPerSecondSoFar: marks,
    perEventUs: Object.fromEntries(
      Object.entries(times).map(([k, ms]) => [k, Math.round(((ms * 1000) / n) * 10) / 10]),
    ),
  }),
);
