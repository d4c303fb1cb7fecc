/**
 * A shard written before block postings (schema 5: date, attacker, tag and indicator indexes,
 * full text with positions) is upgraded when it opens: the postings of its events are built and
 * sealed, the full text is rebuilt, and every search answers as before.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.ts';
import type { Condition } from '../../src/domain/events/search.ts';
import { BetterSqlite } from '../../src/runtime/node/sqlite.ts';
import { migrate } from '../../src/store/migrations/run.ts';
import { shardMigrations } from '../../src/store/migrations/shard.ts';
import { Shard } from '../../src/store/shard/shard.ts';

const BASE = 0x0190_0000_0000 * 4096;

describe('upgrading a shard to block postings', () => {
  it('builds the postings of the stored events and keeps every search working', () => {
    const sql = new BetterSqlite(':memory:');
    migrate(
      sql,
      shardMigrations.filter((m) => m.version <= 5),
    );
    const events = Array.from({ length: 11 }, (_, i) => ({
      id: BASE + i,
      uuid: `uuid-${i}`,
      dateMs: Date.UTC(2025, 0, 1 + (i % 5)),
      attacker: i % 2 ? 'APT1' : 'FIN7',
      tags: i % 3 ? ['phishing'] : ['phishing', 'ransomware_ops'],
      indicators: [{ type: 'ipv4', value: `10.0.0.${i % 4}` }],
      event: i === 7 ? 'Beacon to a sinkholed_domain' : 'Beacon to a domain',
    }));
    for (const e of events) {
      sql.run(
        `INSERT INTO events (id, uuid, date_ms, created_ms, updated_ms, attacker, attacker_country, category, event,
           indicator, indicator_type, kill_chain, mitre_attack, mitre_capec, tags, indicators, target_country,
           target_industry, tlp, raw_id)
         VALUES (?, ?, ?, 0, 0, ?, '', 'c', ?, ?, 'ipv4', 0, '[]', '[]', ?, ?, '', '', 'clear', 'r')`,
        [
          e.id,
          e.uuid,
          e.dateMs,
          e.attacker,
          e.event,
          e.indicators[0]?.value,
          JSON.stringify(e.tags),
          JSON.stringify(e.indicators),
        ],
      );
      sql.run(
        "INSERT INTO raw (event_id, raw_id, source, tlp, data, created_ms, updated_ms) VALUES (?, 'r', '', 'clear', NULL, 0, 0)",
        [e.id],
      );
      sql.run('INSERT INTO events_fts (rowid, event, insight, indicator) VALUES (?, ?, ?, ?)', [
        e.id,
        e.event,
        '',
        e.indicators[0]?.value,
      ]);
    }
    for (const value of ['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3'])
      sql.run(
        "INSERT INTO indicators (uuid, type, value, created_ms, updated_ms) VALUES (?, 'ipv4', ?, 0, 0)",
        [`i-${value}`, value],
      );

    const shard = new Shard(sql, new ManualClock(0), 'ds', true, 4);
    expect(sql.one<{ n: number }>('SELECT count(*) AS n FROM postings_blocks')?.n).toBe(2);
    const newestFirst = (list: typeof events) =>
      [...list].sort((a, b) => b.dateMs - a.dateMs || b.id - a.id).map((e) => e.uuid);
    const search = (conditions: Condition[]) =>
      shard.search({ conditions, orderBy: 'date', order: 'desc', limit: 100 }).map((e) => e.uuid);
    const cases: [Condition[], typeof events][] = [
      [[], events],
      [
        [{ kind: 'string', field: 'attacker', op: 'equals', value: 'APT1' }],
        events.filter((e) => e.attacker === 'APT1'),
      ],
      [
        [{ kind: 'array', field: 'tags', op: 'equals', value: 'ransomware_ops' }],
        events.filter((e) => e.tags.length === 2),
      ],
      [
        [{ kind: 'string', field: 'indicator', op: 'equals', value: '10.0.0.2' }],
        events.filter((e) => e.indicators[0]?.value === '10.0.0.2'),
      ],
      [
        [{ kind: 'string', field: 'event', op: 'find', value: 'sinkholed_domain' }],
        events.filter((e) => e.id === BASE + 7),
      ],
    ];
    for (const [conditions, expected] of cases) {
      expect(search(conditions)).toEqual(newestFirst(expected));
      expect(shard.count(conditions)).toBe(expected.length);
    }
    expect(shard.tagNames()).toEqual(['phishing', 'ransomware_ops']);
    // The old indexes and link tables are gone.
    const tables = sql
      .all<{ name: string }>("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")
      .map((r) => r.name);
    for (const gone of ['events_date', 'events_attacker', 'event_tags', 'event_indicators', 'tag_names'])
      expect(tables).not.toContain(gone);
  });
});

describe('a failed write', () => {
  it('leaves the postings as SQLite has them: what the rolled-back batch listed is gone', () => {
    const sql = new BetterSqlite(':memory:');
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const shard = new Shard(sql, clock, 'ds', true, 4);
    const event = (i: number, tags: string[]) => ({
      id: BASE + i,
      uuid: `uuid-${i}`,
      dateMs: Date.UTC(2025, 0, 1) + i,
      createdMs: 0,
      updatedMs: 0,
      attacker: 'APT1',
      attackerCountry: '',
      category: 'c',
      event: 'e',
      indicator: '',
      indicatorType: '',
      insight: null,
      killChain: 0,
      mitreAttack: [],
      mitreCapec: [],
      tags,
      indicators: [],
      targetCountry: '',
      targetIndustry: '',
      tlp: 'clear',
      releasabilityId: null,
      rawId: `r${i}`,
      hasChildren: false,
      source: null,
      raw: { rawId: `r${i}`, source: '', tlp: 'clear', data: null, createdMs: 0, updatedMs: 0 },
    });
    shard.insertMany([0, 1, 2].map((i) => event(i, ['kept'])));
    // Five new events, enough to seal a block, then an id already stored: the batch fails.
    expect(() => shard.insertMany([3, 4, 5, 6, 7, 1].map((i) => event(i, ['lost'])))).toThrow();
    const tag = (value: string): Condition[] => [{ kind: 'array', field: 'tags', op: 'equals', value }];
    const page = (conditions: Condition[]) =>
      shard.search({ conditions, orderBy: 'date', order: 'desc', limit: 10 }).map((e) => e.uuid);
    expect(page(tag('lost'))).toEqual([]);
    expect(shard.count(tag('lost'))).toBe(0);
    expect(page([])).toEqual(['uuid-2', 'uuid-1', 'uuid-0']);
    expect(sql.one<{ n: number }>('SELECT count(*) AS n FROM postings_blocks')?.n).toBe(0);
    // The next batch lists and seals as if the failed one never came.
    shard.insertMany([3, 4].map((i) => event(i, ['kept'])));
    expect(page(tag('kept'))).toEqual(['uuid-4', 'uuid-3', 'uuid-2', 'uuid-1', 'uuid-0']);
    expect(shard.count(tag('kept'))).toBe(5);
    expect(sql.one<{ n: number }>('SELECT count(*) AS n FROM postings_blocks')?.n).toBe(1);
  });
});
