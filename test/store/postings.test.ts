import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BetterSqlite } from '../../src/runtime/node/sqlite.ts';
import { migrate } from '../../src/store/migrations/run.ts';
import { shardMigrations } from '../../src/store/migrations/shard.ts';
import {
  indicatorKey,
  keysOf,
  type PostingEvent,
  Postings,
  postingKey,
  type Walk,
  walkRuns,
} from '../../src/store/shard/postings.ts';
import type { Sql } from '../../src/store/sql.ts';

/**
 * The postings against a plain model: the events table itself, filtered and sorted. Every
 * step changes `events` and tells the postings, as the shard does; then every list, walked in
 * both orders from random positions and within random date bounds, must equal the model.
 */

const TAGS = ['a', 'b', 'c', 'd'];
const ATTACKERS = ['', 'x', 'y'];
const INDICATORS = [
  { type: 'ip', value: '10.0.0.1' },
  { type: 'domain', value: '10.0.0.1' },
  { type: 'ip', value: '10.0.0.2' },
];

function open(): Sql {
  const sql = new BetterSqlite(':memory:');
  migrate(sql, shardMigrations);
  return sql;
}

function store(sql: Sql, e: PostingEvent): void {
  sql.run(
    `INSERT INTO events (id, uuid, date_ms, created_ms, updated_ms, attacker, attacker_country, category, event,
       indicator, indicator_type, kill_chain, mitre_attack, mitre_capec, tags, indicators, target_country,
       target_industry, tlp, raw_id)
     VALUES (?, ?, ?, 0, 0, ?, '', 'c', 'e', '', '', 0, '[]', '[]', ?, ?, '', '', 'clear', 'r')`,
    [e.id, `u${e.id}`, e.dateMs, e.attacker, JSON.stringify(e.tags), JSON.stringify(e.indicators)],
  );
}

function stored(sql: Sql): PostingEvent[] {
  return sql
    .all<{ id: number; date_ms: number; attacker: string; tags: string; indicators: string }>(
      'SELECT id, date_ms, attacker, tags, indicators FROM events',
    )
    .map((r) => ({
      id: r.id,
      dateMs: r.date_ms,
      attacker: r.attacker,
      tags: JSON.parse(r.tags),
      indicators: JSON.parse(r.indicators),
    }));
}

/** What a walk must answer, from the events table. */
function expected(sql: Sql, keys: string[], walk: Walk): [number, number][] {
  const wanted = new Set(keys);
  const rows = stored(sql)
    .filter((e) => keysOf(e).some((k) => wanted.has(k)))
    .filter(
      (e) =>
        (walk.loMs === undefined || e.dateMs >= walk.loMs) &&
        (walk.hiMs === undefined || e.dateMs <= walk.hiMs),
    )
    .map((e): [number, number] => [e.dateMs, e.id])
    .sort((a, b) => b[0] - a[0] || b[1] - a[1]);
  const ordered = walk.order === 'desc' ? rows : rows.reverse();
  if (!walk.after) return ordered;
  const { dateMs, id } = walk.after;
  const newer = (p: [number, number]) => p[0] > dateMs || (p[0] === dateMs && p[1] > id);
  const older = (p: [number, number]) => p[0] < dateMs || (p[0] === dateMs && p[1] < id);
  return ordered.filter(walk.order === 'desc' ? older : newer);
}

const eventArb = fc.record({
  dateMs: fc.integer({ min: 0, max: 20 }),
  attacker: fc.constantFrom(...ATTACKERS),
  tags: fc.uniqueArray(fc.constantFrom(...TAGS), { maxLength: 3 }),
  indicators: fc.uniqueArray(fc.constantFrom(...INDICATORS), { maxLength: 2 }),
});

const stepArb = fc.oneof(
  fc.record({
    kind: fc.constant('insert' as const),
    events: fc.array(eventArb, { minLength: 1, maxLength: 6 }),
  }),
  // An event re-inserted with an old id (a restore, a move back).
  fc.record({ kind: fc.constant('reinsert' as const), pick: fc.nat(), event: eventArb }),
  fc.record({ kind: fc.constant('edit' as const), pick: fc.nat(), event: eventArb }),
  fc.record({
    kind: fc.constant('remove' as const),
    picks: fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
  }),
  fc.record({ kind: fc.constant('compact' as const), share: fc.constantFrom(0, 0.25) }),
  fc.constant({ kind: 'reload' as const }),
);

const KEYS = [
  postingKey('all'),
  ...TAGS.map((t) => postingKey('tag', t)),
  ...ATTACKERS.map((a) => postingKey('attacker', a)),
  ...INDICATORS.map((i) => indicatorKey(i.type, i.value)),
];

describe('block postings', () => {
  it('answer every list, walk and count as the events table does, through seals, edits, removals and reloads', () => {
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 5 }),
        (steps, blockSize) => {
          const sql = open();
          const postings = new Postings(sql, blockSize);
          postings.load();
          let nextId = 1000;
          let removed: PostingEvent[] = [];
          for (const step of steps) {
            sql.transaction(() => {
              const now = stored(sql);
              if (step.kind === 'insert') {
                const events = step.events.map((e) => ({ ...e, id: nextId++ }));
                for (const e of events) store(sql, e);
                postings.add(events);
                postings.sealDue();
              } else if (step.kind === 'reinsert') {
                const gone = removed[step.pick % Math.max(1, removed.length)];
                if (!gone) return;
                removed = removed.filter((r) => r.id !== gone.id);
                const e = { ...step.event, id: gone.id };
                store(sql, e);
                postings.add([e]);
              } else if (step.kind === 'edit') {
                const target = now[step.pick % Math.max(1, now.length)];
                if (!target) return;
                const after = { ...step.event, id: target.id };
                sql.run('DELETE FROM events WHERE id = ?', [target.id]);
                store(sql, after);
                postings.remove([target.id], keysOf(target));
                postings.add([after]);
              } else if (step.kind === 'remove') {
                const ids = [...new Set(step.picks.map((p) => now[p % Math.max(1, now.length)]?.id))].filter(
                  (id): id is number => id !== undefined,
                );
                for (const id of ids) {
                  removed.push(now.find((e) => e.id === id) as PostingEvent);
                  sql.run('DELETE FROM events WHERE id = ?', [id]);
                }
                postings.remove(ids);
              } else if (step.kind === 'compact') {
                postings.compact(step.share);
              } else {
                postings.load();
              }
            });
            // Read between steps too: an open list sorted by one read must take in what comes after.
            for (const key of [postingKey('all'), postingKey('tag', 'a')])
              expect([...walkRuns(postings.runs(key), { order: 'desc' })]).toEqual(
                expected(sql, [key], { order: 'desc' }),
              );
          }
          const events = stored(sql);
          const dates = [undefined, 0, 5, 10, 20];
          for (const key of KEYS) {
            expect(postings.count(key)).toBe(expected(sql, [key], { order: 'desc' }).length);
            for (const order of ['asc', 'desc'] as const) {
              const all = expected(sql, [key], { order });
              expect([...walkRuns(postings.runs(key), { order })]).toEqual(all);
              for (const at of [events[0], events[events.length - 1]]) {
                if (!at) continue;
                const walk: Walk = { order, after: { dateMs: at.dateMs, id: at.id } };
                expect([...walkRuns(postings.runs(key), walk)]).toEqual(expected(sql, [key], walk));
              }
              for (const loMs of dates)
                for (const hiMs of dates) {
                  const walk: Walk = { order, loMs, hiMs };
                  expect(postings.countWalk([key], walk)).toBe(expected(sql, [key], walk).length);
                }
            }
          }
          // A union of lists gives every event once.
          const union = [postingKey('tag', 'a'), postingKey('tag', 'b'), postingKey('attacker', 'x')];
          expect([
            ...walkRuns(
              union.flatMap((k) => postings.runs(k)),
              { order: 'desc' },
            ),
          ]).toEqual(expected(sql, union, { order: 'desc' }));
          expect(postings.values('tag')).toEqual(TAGS.filter((t) => events.some((e) => e.tags.includes(t))));
          // What was sealed and overlaid survives a reopen.
          const reopened = new Postings(sql, blockSize);
          sql.transaction(() => reopened.load());
          for (const key of KEYS) {
            expect([...walkRuns(reopened.runs(key), { order: 'desc' })]).toEqual([
              ...walkRuns(postings.runs(key), { order: 'desc' }),
            ]);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('seals a block once the open range holds blockSize events, and reads it back from SQLite', () => {
    const sql = open();
    const postings = new Postings(sql, 3);
    postings.load();
    const events = [1, 2, 3, 4].map((id) => ({
      id,
      dateMs: 10 - id,
      attacker: 'x',
      tags: ['t'],
      indicators: [],
    }));
    sql.transaction(() => {
      for (const e of events) store(sql, e);
      postings.add(events);
      postings.sealDue();
    });
    expect(sql.one<{ n: number }>('SELECT count(*) AS n FROM postings_blocks')?.n).toBe(1);
    expect(sql.one<{ n: number }>("SELECT count(*) AS n FROM postings WHERE key = 't'")?.n).toBe(1);
    expect([...walkRuns(postings.runs(postingKey('tag', 't')), { order: 'desc' })].map((p) => p[1])).toEqual([
      1, 2, 3, 4,
    ]);
    expect(postings.count(postingKey('tag', 't'))).toBe(4);
  });
});
