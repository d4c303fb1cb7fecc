import type { Migration } from './run.ts';

/**
 * Schema of one shard. Design notes (see README "Storage"):
 * - `events.id` is the integer form of the UUIDv7 (domain/ids.ts), so rows are appended in id
 *   order and every index carries the uuid order as its last column for stable tie-breaks.
 * - No secondary index on events (migration 6): look-ups by tag, attacker, indicator and the date
 *   order come from block postings (store/shard/postings.ts). Other filters scan, which is
 *   bounded by the shard size.
 * - Full text over event, insight and indicator values lives in a contentless FTS5 table.
 */
export const shardMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'events, raw payloads, tags, indicators, full text',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL,
        date_ms INTEGER NOT NULL,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        attacker TEXT NOT NULL,
        attacker_country TEXT NOT NULL,
        category TEXT NOT NULL,
        event TEXT NOT NULL,
        indicator TEXT NOT NULL,
        indicator_type TEXT NOT NULL,
        insight TEXT,
        kill_chain INTEGER NOT NULL,
        mitre_attack TEXT NOT NULL,
        mitre_capec TEXT NOT NULL,
        tags TEXT NOT NULL,
        indicators TEXT NOT NULL,
        target_country TEXT NOT NULL,
        target_industry TEXT NOT NULL,
        tlp TEXT NOT NULL,
        releasability_id TEXT,
        raw_id TEXT NOT NULL,
        has_children INTEGER NOT NULL DEFAULT 0,
        source TEXT
      );
      CREATE INDEX events_date ON events(date_ms);
      CREATE INDEX events_attacker ON events(attacker, date_ms);
      CREATE TABLE raw (
        event_id INTEGER PRIMARY KEY,
        raw_id TEXT NOT NULL,
        source TEXT NOT NULL,
        tlp TEXT NOT NULL,
        data TEXT,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL
      );
      CREATE TABLE tag_names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
      CREATE TABLE event_tags (
        tag_id INTEGER NOT NULL,
        date_ms INTEGER NOT NULL,
        event_id INTEGER NOT NULL,
        PRIMARY KEY (tag_id, date_ms, event_id)
      ) WITHOUT ROWID;
      CREATE TABLE indicators (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL,
        type TEXT NOT NULL,
        value TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        UNIQUE (value, type)
      );
      CREATE TABLE event_indicators (
        indicator_id INTEGER NOT NULL,
        event_id INTEGER NOT NULL,
        PRIMARY KEY (indicator_id, event_id)
      ) WITHOUT ROWID;
      CREATE VIRTUAL TABLE events_fts USING fts5(
        event, insight, indicator, content='', contentless_delete=1, tokenize='unicode61'
      );
    `,
  },
  {
    version: 2,
    name: 'indicator look-ups by uuid and creation time',
    sql: `
      CREATE INDEX indicators_uuid ON indicators(uuid);
      CREATE INDEX indicators_created ON indicators(created_ms, uuid);
    `,
  },
  {
    version: 3,
    name: 'indicator first sighting across the shards of a dataset',
    // A dataset's later shards copy an indicator's created time from the shard that saw it
    // first and mark their row secondary, so lists merge the copies and counts count it once.
    sql: `
      ALTER TABLE indicators ADD COLUMN is_primary INTEGER NOT NULL DEFAULT 1;
    `,
  },
  {
    version: 4,
    name: 'change journal for point-in-time revert',
    // One row per write: inserts list their event ids, edits and deletes keep the before image.
    sql: `
      CREATE TABLE journal (
        seq INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        op TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
        ids TEXT,
        before TEXT
      );
      CREATE INDEX journal_at ON journal(at_ms);
    `,
  },
  {
    version: 5,
    name: 'journal images as rows, full-text ghosts',
    // Before images are row copies made by SQL (no JSON round trip through the process), and
    // removed events leave their full-text entry behind as a ghost: `find` only selects ids
    // that are in `events`, so a ghost never matches; it is deleted before its id is written again.
    sql: `
      CREATE TABLE journal_events (
        seq INTEGER NOT NULL,
        id INTEGER NOT NULL,
        uuid TEXT NOT NULL,
        date_ms INTEGER NOT NULL,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        attacker TEXT NOT NULL,
        attacker_country TEXT NOT NULL,
        category TEXT NOT NULL,
        event TEXT NOT NULL,
        indicator TEXT NOT NULL,
        indicator_type TEXT NOT NULL,
        insight TEXT,
        kill_chain INTEGER NOT NULL,
        mitre_attack TEXT NOT NULL,
        mitre_capec TEXT NOT NULL,
        tags TEXT NOT NULL,
        indicators TEXT NOT NULL,
        target_country TEXT NOT NULL,
        target_industry TEXT NOT NULL,
        tlp TEXT NOT NULL,
        releasability_id TEXT,
        raw_id TEXT NOT NULL,
        has_children INTEGER NOT NULL,
        source TEXT,
        PRIMARY KEY (seq, id)
      ) WITHOUT ROWID;
      CREATE TABLE journal_raw (
        seq INTEGER NOT NULL,
        event_id INTEGER NOT NULL,
        raw_id TEXT NOT NULL,
        source TEXT NOT NULL,
        tlp TEXT NOT NULL,
        data TEXT,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        PRIMARY KEY (seq, event_id)
      ) WITHOUT ROWID;
      -- seq: the journal entry holding the image taken when the ghost was left, whose full
      -- text is the ghost's; restoring that image keeps the entry instead of rewriting it.
      CREATE TABLE fts_ghosts (id INTEGER PRIMARY KEY, seq INTEGER);
    `,
  },
  {
    version: 6,
    name: 'block postings instead of random-key indexes, full text without positions',
    // Tag, attacker and indicator look-ups and the date order move to block postings
    // (store/shard/postings.ts): every index below took an entry per event in random key order,
    // which capped ingest far below the target once the shard outgrew the cache. The shard builds
    // the postings of the events already stored when it opens.
    sql: `
      DROP INDEX events_date;
      DROP INDEX events_attacker;
      DROP TABLE event_tags;
      DROP TABLE event_indicators;
      DROP TABLE tag_names;
      CREATE TABLE postings_blocks (
        block INTEGER PRIMARY KEY,
        lo INTEGER NOT NULL,
        hi INTEGER NOT NULL,
        count INTEGER NOT NULL
      );
      -- Keyed by block first: sealing a block appends its rows at the end of the index.
      CREATE TABLE postings (
        id INTEGER PRIMARY KEY,
        block INTEGER NOT NULL,
        field INTEGER NOT NULL,
        key TEXT NOT NULL,
        data BLOB NOT NULL
      );
      CREATE UNIQUE INDEX postings_key ON postings (block, field, key);
      CREATE TABLE postings_overlay (id INTEGER PRIMARY KEY);
      -- Full text without positions: \`find\` only asks that every word occurs, and an index of
      -- rowids per term is written at about two thirds of the cost. Ghosts go with the old index.
      DROP TABLE events_fts;
      DELETE FROM fts_ghosts;
      CREATE VIRTUAL TABLE events_fts USING fts5(
        event, insight, indicator, content='', contentless_delete=1, tokenize='unicode61', detail=none
      );
      INSERT INTO events_fts (rowid, event, insight, indicator)
        SELECT id, event, coalesce(insight, ''),
          (SELECT coalesce(group_concat(j.value ->> 'value', ' ' ORDER BY j.key), '') FROM json_each(indicators) j)
        FROM events;
    `,
  },
];
