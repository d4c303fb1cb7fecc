import type { Clock } from '../../domain/clock.ts';
import type {
  EventPatch,
  EventSource,
  IndicatorRef,
  NewEvent,
  RawPayload,
  SortField,
  SortValue,
  StoredEvent,
} from '../../domain/events/model.ts';
import type { Condition } from '../../domain/events/search.ts';
import { eventKey } from '../../domain/ids.ts';
import { indicatorUuid } from '../../domain/indicators/normalize.ts';
import { migrate } from '../migrations/run.ts';
import { shardMigrations } from '../migrations/shard.ts';
import { compileSearch, keysetCondition, orderPieces } from '../search/compile.ts';
import type { Sql } from '../sql.ts';
import {
  type BatchEvent,
  batchEvent,
  batchEvents,
  EVENT_PARAMS,
  type EventBatch,
  RAW_PARAMS,
  STRIDE,
  toBatch,
} from './batch.ts';
import { type AggGroup, type AggQuery, EventColumns } from './columns.ts';
import { indicatorKey, keysOf, Postings, postingKey, type Walk, walkRuns } from './postings.ts';

/** A page request against one shard. */
export interface ShardQuery {
  conditions: readonly Condition[];
  orderBy: SortField;
  order: 'asc' | 'desc';
  /** Keyset position: only rows strictly after it. */
  after?: { value: SortValue; id: number };
  limit: number;
  offset?: number;
}

/** The sort key of one row, for merging pages across shards. */
export interface RowKey {
  value: SortValue;
  id: number;
}

interface EventRow {
  id: number;
  uuid: string;
  date_ms: number;
  created_ms: number;
  updated_ms: number;
  attacker: string;
  attacker_country: string;
  category: string;
  event: string;
  indicator: string;
  indicator_type: string;
  insight: string | null;
  kill_chain: number;
  mitre_attack: string;
  mitre_capec: string;
  tags: string;
  indicators: string;
  target_country: string;
  target_industry: string;
  tlp: string;
  releasability_id: string | null;
  raw_id: string;
  has_children: number;
  source: string | null;
}

interface RawRow {
  event_id: number;
  raw_id: string;
  source: string;
  tlp: string;
  data: string | null;
  created_ms: number;
  updated_ms: number;
}

const toEvent = (r: EventRow): StoredEvent => ({
  id: r.id,
  uuid: r.uuid,
  dateMs: r.date_ms,
  createdMs: r.created_ms,
  updatedMs: r.updated_ms,
  attacker: r.attacker,
  attackerCountry: r.attacker_country,
  category: r.category,
  event: r.event,
  indicator: r.indicator,
  indicatorType: r.indicator_type,
  insight: r.insight,
  killChain: r.kill_chain,
  mitreAttack: JSON.parse(r.mitre_attack) as string[],
  mitreCapec: JSON.parse(r.mitre_capec) as string[],
  tags: JSON.parse(r.tags) as string[],
  indicators: JSON.parse(r.indicators) as IndicatorRef[],
  targetCountry: r.target_country,
  targetIndustry: r.target_industry,
  tlp: r.tlp,
  releasabilityId: r.releasability_id,
  rawId: r.raw_id,
  hasChildren: r.has_children === 1,
  source: r.source === null ? null : (JSON.parse(r.source) as EventSource),
});

const toRaw = (r: RawRow): RawPayload => ({
  rawId: r.raw_id,
  source: r.source,
  tlp: r.tlp,
  data: r.data === null ? null : JSON.parse(r.data),
  createdMs: r.created_ms,
  updatedMs: r.updated_ms,
});

/** Per-row insert statements of a shard (exported for the bare-SQLite reference benchmark). */
export const INSERT_EVENT = `INSERT INTO events (id, uuid, date_ms, created_ms, updated_ms, attacker, attacker_country,
  category, event, indicator, indicator_type, insight, kill_chain, mitre_attack, mitre_capec, tags, indicators,
  target_country, target_industry, tlp, releasability_id, raw_id, has_children, source)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
export const INSERT_RAW =
  'INSERT INTO raw (event_id, raw_id, source, tlp, data, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?)';
export const INSERT_FTS = 'INSERT INTO events_fts (rowid, event, insight, indicator) VALUES (?, ?, ?, ?)';

const CACHE_LIMIT = 200_000;

/** Events per sealed block of postings. */
export const POSTING_BLOCK = 65_536;

/** Most candidates tested by SQL at a time when a posting walk drives a search. */
const WALK_BATCH = 20_000;

/** True when a posting condition drives the plan (not the date order of all events, nor SQL). */
const drivenByCondition = (plan: Plan): plan is Plan & { keys: string[] } =>
  plan.keys !== undefined && plan.keys[0] !== postingKey('all');

/** How a search runs (see Shard.plan). */
interface Plan {
  /** Posting lists whose union drives the walk; undefined when SQL selects the candidates. */
  keys: string[] | undefined;
  /** Conditions tested by SQL on the driven candidates. */
  rest: Condition[];
  /** Date range of the walk. */
  bounds: { loMs?: number; hiMs?: number };
}

/** The columns of `events` and `raw`, as copied into the journal's before images. */
const EVENT_COLUMNS = `id, uuid, date_ms, created_ms, updated_ms, attacker, attacker_country, category, event,
  indicator, indicator_type, insight, kill_chain, mitre_attack, mitre_capec, tags, indicators, target_country,
  target_industry, tlp, releasability_id, raw_id, has_children, source`;
const RAW_COLUMNS = 'event_id, raw_id, source, tlp, data, created_ms, updated_ms';

/**
 * Everything stored for one shard of one dataset: events, raw payloads, indicators, the block
 * postings that look events up by tag, attacker and indicator (postings.ts), full text. Pure and
 * synchronous: the same class runs inside a Durable Object.
 */
export class Shard {
  /** Indicators known to have their row, by type (see ensureIndicator). */
  private readonly knownIndicators = new Map<string, Set<string>>();
  private knownCount = 0;
  private eventCount: number;
  /**
   * Highest event id whose full-text entry outlived its event (a ghost, see removeIds); only
   * ids at or below it are checked before their full text is written again.
   */
  private maxGhost: number;
  /** Column copy for aggregations, kept in step with every write below. */
  private readonly columns: EventColumns;
  /** Look-ups by tag, attacker and indicator, and the date order, kept in step with every write. */
  private readonly postings: Postings;

  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock,
    /** The dataset this shard belongs to: indicator uuids are derived from it. */
    private readonly datasetId = '',
    /** Record every write in the change journal (point-in-time revert). */
    private readonly journaling = true,
    /** Events per sealed block of postings (small in tests, so that blocks are exercised). */
    blockSize = POSTING_BLOCK,
  ) {
    migrate(sql, shardMigrations);
    this.eventCount = sql.one<{ n: number }>('SELECT count(*) AS n FROM events')?.n ?? 0;
    this.maxGhost = sql.one<{ m: number | null }>('SELECT max(id) AS m FROM fts_ghosts')?.m ?? -1;
    this.columns = new EventColumns(sql);
    this.postings = new Postings(sql, blockSize);
    // Builds the postings of a shard written before they existed, block by block.
    sql.transaction(() => this.postings.load());
  }

  /**
   * Runs a write; when it fails, what is kept in memory is rebuilt from SQLite, where the
   * transaction was rolled back (ids cached inside it no longer exist, nor do listed events).
   */
  private write<T>(fn: () => T): T {
    try {
      return this.sql.transaction(fn);
    } catch (err) {
      this.knownIndicators.clear();
      this.postings.load();
      throw err;
    }
  }

  /** Number of events stored in this shard. */
  size(): number {
    return this.eventCount;
  }

  /** Stores events with their raw payloads, tags, indicators and full text, all or nothing. */
  insertMany(events: readonly NewEvent[]): void {
    this.insertBatch(toBatch(events));
  }

  /** insertMany for events already flattened (how the storage thread receives them). */
  insertBatch(batch: EventBatch): void {
    let entries: (BatchEvent & { at: number })[] = [];
    this.write(() => {
      entries = this.insertRows(batch);
      this.journal(
        'insert',
        entries.map((e) => e.id),
        null,
      );
    });
    this.eventCount += batch.size;
    for (const e of entries) if (this.columns.accepts(e.id)) this.columns.append(batchEvent(batch, e));
  }

  /** Writes the rows, full text and postings of a batch (inside the caller's transaction). */
  private insertRows(batch: EventBatch): (BatchEvent & { at: number })[] {
    const sql = this.sql;
    const v = batch.values;
    const entries = [...batchEvents(batch)];
    for (const e of entries) {
      const at = e.at;
      sql.run(INSERT_EVENT, v.slice(at, at + EVENT_PARAMS));
      sql.run(INSERT_RAW, v.slice(at + EVENT_PARAMS, at + EVENT_PARAMS + RAW_PARAMS));
      for (const ref of e.indicators) this.ensureIndicator(ref, e.createdMs);
      if (e.id <= this.maxGhost && sql.run('DELETE FROM fts_ghosts WHERE id = ?', [e.id]).changes > 0)
        sql.run('DELETE FROM events_fts WHERE rowid = ?', [e.id]);
      sql.run(INSERT_FTS, [e.id, v[at + 8], v[at + 11] ?? '', v[at + STRIDE - 1]]);
      this.postings.addOne(e);
    }
    this.postings.sealDue();
    return entries;
  }

  /**
   * Makes sure the indicator has its row. Known ones are remembered by type, then by the
   * event's own value string (no key string is built: its hash is computed once).
   */
  private ensureIndicator(ref: IndicatorRef, now: number): void {
    let values = this.knownIndicators.get(ref.type);
    if (values?.has(ref.value)) return;
    const found = this.sql.one('SELECT 1 FROM indicators WHERE value = ? AND type = ?', [
      ref.value,
      ref.type,
    ]);
    if (!found)
      this.sql.run(
        'INSERT INTO indicators (uuid, type, value, created_ms, updated_ms, is_primary) VALUES (?, ?, ?, ?, ?, ?)',
        [
          indicatorUuid(this.datasetId, ref.type, ref.value),
          ref.type,
          ref.value,
          ref.firstSeenMs ?? now,
          now,
          ref.firstSeenMs === undefined ? 1 : 0,
        ],
      );
    if (++this.knownCount > CACHE_LIMIT) {
      this.knownIndicators.clear();
      this.knownCount = 1;
    }
    if (!values) {
      values = new Set();
      this.knownIndicators.set(ref.type, values);
    }
    values.add(ref.value);
  }

  /**
   * Deletes the indicators among `refs` that no event carries any more, as removing events
   * does: an edit that replaces an event's indicator leaves no indicator without events behind.
   */
  private dropUnlinkedIndicators(refs: readonly IndicatorRef[]): void {
    for (const ref of refs) {
      if (this.postings.count(indicatorKey(ref.type, ref.value)) > 0) continue;
      this.sql.run('DELETE FROM indicators WHERE value = ? AND type = ?', [ref.value, ref.type]);
      this.knownIndicators.get(ref.type)?.delete(ref.value);
    }
  }

  /** One event by uuid. */
  get(uuid: string): StoredEvent | undefined {
    const id = eventKey(uuid);
    if (id === undefined) return undefined;
    const row = this.sql.one<EventRow>('SELECT * FROM events WHERE id = ? AND uuid = ?', [id, uuid]);
    return row ? toEvent(row) : undefined;
  }

  /** Several events by uuid, in the order asked; unknown ones are left out. */
  getMany(uuids: readonly string[]): StoredEvent[] {
    const out: StoredEvent[] = [];
    for (const uuid of uuids) {
      const e = this.get(uuid);
      if (e) out.push(e);
    }
    return out;
  }

  getRaw(uuid: string): RawPayload | undefined {
    const id = eventKey(uuid);
    if (id === undefined) return undefined;
    const row = this.sql.one<RawRow>(
      'SELECT r.* FROM raw r JOIN events e ON e.id = r.event_id WHERE r.event_id = ? AND e.uuid = ?',
      [id, uuid],
    );
    return row ? toRaw(row) : undefined;
  }

  /** Applies a partial edit in one transaction, keeping links and full text in step. */
  update(uuid: string, patch: EventPatch): StoredEvent | undefined {
    const updated = this.write(() => {
      const before = this.get(uuid);
      if (!before) return undefined;
      this.journal('update', null, [before.id]);
      const now = patch.updatedMs ?? this.clock.now();
      const after: StoredEvent = { ...before, updatedMs: now };
      for (const key of Object.keys(patch) as (keyof EventPatch)[]) {
        if (key === 'raw' || patch[key] === undefined) continue;
        (after as unknown as Record<string, unknown>)[key] = patch[key];
      }
      if (patch.indicator !== undefined || patch.indicatorType !== undefined) {
        // The single indicator pair is the event's first indicator; keep the list in step.
        const first = { type: after.indicatorType, value: after.indicator };
        const rest = before.indicators.slice(1);
        after.indicators = first.value ? [first, ...rest] : rest;
      }
      this.sql.run(
        `UPDATE events SET date_ms = ?, created_ms = ?, updated_ms = ?, attacker = ?, attacker_country = ?,
           category = ?, event = ?, indicator = ?, indicator_type = ?, insight = ?, target_country = ?,
           target_industry = ?, tlp = ?, indicators = ? WHERE id = ?`,
        [
          after.dateMs,
          after.createdMs,
          after.updatedMs,
          after.attacker,
          after.attackerCountry,
          after.category,
          after.event,
          after.indicator,
          after.indicatorType,
          after.insight,
          after.targetCountry,
          after.targetIndustry,
          after.tlp,
          JSON.stringify(after.indicators),
          before.id,
        ],
      );
      const relisted =
        after.dateMs !== before.dateMs ||
        after.attacker !== before.attacker ||
        JSON.stringify(after.indicators) !== JSON.stringify(before.indicators);
      if (relisted) {
        this.postings.remove([before.id], keysOf(before));
        this.postings.add([after]);
        for (const ref of after.indicators) this.ensureIndicator(ref, now);
        this.dropUnlinkedIndicators(before.indicators);
      }
      this.sql.run('DELETE FROM events_fts WHERE rowid = ?', [before.id]);
      this.sql.run(INSERT_FTS, [before.id, after.event, after.insight ?? '', ftsIndicatorText(after)]);
      if (patch.raw) this.updateRawRow(before.id, patch.raw, now);
      return after;
    });
    if (updated) this.columns.patch(updated);
    return updated;
  }

  /** Edits the raw payload of an event; answers the new payload, or undefined when unknown. */
  updateRaw(uuid: string, patch: NonNullable<EventPatch['raw']>): RawPayload | undefined {
    return this.sql.transaction(() => {
      const event = this.get(uuid);
      if (!event) return undefined;
      this.journal('update', null, [event.id]);
      this.updateRawRow(event.id, patch, this.clock.now());
      return this.getRaw(uuid);
    });
  }

  private updateRawRow(eventId: number, patch: NonNullable<EventPatch['raw']>, now: number): void {
    const sets: string[] = ['updated_ms = ?'];
    const params: unknown[] = [now];
    if (patch.data !== undefined) {
      sets.push('data = ?');
      params.push(patch.data === null ? null : JSON.stringify(patch.data));
    }
    if (patch.source !== undefined) {
      sets.push('source = ?');
      params.push(patch.source);
    }
    if (patch.tlp !== undefined) {
      sets.push('tlp = ?');
      params.push(patch.tlp);
    }
    params.push(eventId);
    this.sql.run(`UPDATE raw SET ${sets.join(', ')} WHERE event_id = ?`, params);
  }

  /** Replaces the tags of an event, keeping the tag index in step; undefined when unknown. */
  setTags(uuid: string, tags: readonly string[]): StoredEvent | undefined {
    const updated = this.write(() => {
      const before = this.get(uuid);
      if (!before) return undefined;
      this.journal('update', null, [before.id]);
      const now = this.clock.now();
      this.postings.remove([before.id], keysOf(before));
      this.postings.add([{ ...before, tags }]);
      this.sql.run('UPDATE events SET tags = ?, updated_ms = ? WHERE id = ?', [
        JSON.stringify(tags),
        now,
        before.id,
      ]);
      return { ...before, tags: [...tags], updatedMs: now };
    });
    if (updated) this.columns.patch(updated);
    return updated;
  }

  /** Records whether an event is the parent of a relationship. */
  setHasChildren(uuid: string, hasChildren: boolean): void {
    const id = eventKey(uuid);
    if (id === undefined) return;
    this.sql.transaction(() => {
      const row = this.sql.one<{ h: number }>(
        'SELECT has_children AS h FROM events WHERE id = ? AND uuid = ?',
        [id, uuid],
      );
      if (!row || row.h === (hasChildren ? 1 : 0)) return;
      this.journal('update', null, [id]);
      this.sql.run('UPDATE events SET has_children = ? WHERE id = ?', [hasChildren ? 1 : 0, id]);
    });
  }

  /**
   * Builds part of the column copy for aggregations (at most `maxRows` rows); answers true once
   * it is complete. The storage thread calls it between other calls, so the first aggregation
   * of a large shard does not hold up every other request while the copy is read.
   */
  warmColumns(maxRows: number): boolean {
    return this.columns.buildStep(maxRows);
  }

  /**
   * Exact group counts (E12). Without conditions every row is counted from the column copy;
   * with conditions, SQL picks the matching ids first.
   */
  aggregate(
    q: Omit<AggQuery, 'onlyIds'>,
    conditions: readonly Condition[],
  ): { groups: AggGroup[]; total: number; groupCount: number } {
    if (conditions.length === 0) return this.columns.aggregate(q);
    const ids = this.matchingIds(conditions, Number.MAX_SAFE_INTEGER);
    return this.columns.aggregate({ ...q, onlyIds: ids });
  }

  /**
   * Removes events with everything that hangs off them (raw payload, postings, full text;
   * indicators left with no event go too), all or nothing, and journals their before images. Answers what was removed, as storable events, so a move can write them elsewhere.
   */
  removeMany(uuids: readonly string[]): NewEvent[] {
    const ids: number[] = [];
    for (const uuid of uuids) {
      const id = eventKey(uuid);
      if (id !== undefined && this.sql.one('SELECT 1 FROM events WHERE id = ? AND uuid = ?', [id, uuid]))
        ids.push(id);
    }
    let removed: NewEvent[] = [];
    this.write(() => {
      removed = this.images(ids);
      if (removed.length === 0) return;
      this.removeIds(ids, this.journal('delete', null, ids));
    });
    return removed;
  }

  /** Before images of events, as storable events. */
  private images(ids: readonly number[]): NewEvent[] {
    if (ids.length === 0) return [];
    return this.imageRows(
      'FROM events e JOIN raw r ON r.event_id = e.id WHERE e.id IN (SELECT value FROM json_each(?))',
      [JSON.stringify(ids)],
    );
  }

  /** Events joined with their raw payloads (`e`, `r`) as storable events, by id. */
  private imageRows(from: string, params: unknown[]): NewEvent[] {
    return this.sql
      .all<
        EventRow & {
          r_raw_id: string;
          r_source: string;
          r_tlp: string;
          r_data: string | null;
          r_created_ms: number;
          r_updated_ms: number;
        }
      >(
        `SELECT e.*, r.raw_id AS r_raw_id, r.source AS r_source, r.tlp AS r_tlp, r.data AS r_data,
           r.created_ms AS r_created_ms, r.updated_ms AS r_updated_ms ${from} ORDER BY e.id`,
        params,
      )
      .map((row) => ({
        ...toEvent(row),
        raw: toRaw({
          event_id: row.id,
          raw_id: row.r_raw_id,
          source: row.r_source,
          tlp: row.r_tlp,
          data: row.r_data,
          created_ms: row.r_created_ms,
          updated_ms: row.r_updated_ms,
        }),
      }));
  }

  /**
   * The ids among `ids` that are stored, ascending. When they are all there (undoing recent
   * inserts), two counts say so without reading 100,000 ids back from SQLite.
   */
  private existingOf(ids: readonly number[]): number[] {
    if (ids.length === 0) return [];
    const list = JSON.stringify(ids);
    const sorted = [...new Set(ids)].sort((a, b) => a - b);
    const stored = this.sql.one<{ n: number }>(
      'SELECT count(*) AS n FROM events WHERE id IN (SELECT value FROM json_each(?))',
      [list],
    )?.n;
    return stored === sorted.length ? sorted : this.existing(list);
  }

  /** The ids among `ids` (a JSON array) that are stored, ascending. */
  private existing(ids: string): number[] {
    return this.sql
      .all<{ id: number }>('SELECT id FROM events WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id', [
        ids,
      ])
      .map((r) => r.id);
  }

  /**
   * Deletes stored events and everything that hangs off them (raw payload, postings, indicators
   * left with no event) with a handful of set-based statements, without journaling: a revert of
   * 100,000 inserts is a few passes inside SQLite, not 100,000 calls. Their full-text entries
   * stay behind as ghosts (recorded in fts_ghosts): `find` only ever selects ids that are in
   * `events`, so a ghost never matches, and deleting a contentless FTS5 row costs more than the
   * rest of the removal together. Answers the number removed.
   */
  private removeIds(unsorted: readonly number[], imagesSeq: number | null): number {
    if (unsorted.length === 0) return 0;
    const sql = this.sql;
    const ids = [...new Set(unsorted)].sort((a, b) => a - b);
    const list = JSON.stringify(ids);
    const lo = ids[0] as number;
    const hi = ids[ids.length - 1] as number;
    // Reverting recent inserts removes every event of an id range: then the rows go by key range.
    const whole =
      ids.length > 1 &&
      (sql.one<{ n: number }>('SELECT count(*) AS n FROM events WHERE id BETWEEN ? AND ?', [lo, hi])?.n ??
        0) === ids.length;
    const range = { where: 'BETWEEN ? AND ?', params: [lo, hi] };
    const listed = { where: 'IN (SELECT value FROM json_each(?))', params: [list] };
    const rows = whole ? range : listed;
    // Indicators of these events: deleted below when no other event carries them.
    const touched = sql.all<{ type: string; value: string }>(
      `SELECT DISTINCT j.value ->> 'type' AS type, j.value ->> 'value' AS value
       FROM events e, json_each(e.indicators) j WHERE e.id ${rows.where}`,
      rows.params,
    );
    sql.run(`INSERT OR REPLACE INTO fts_ghosts (id, seq) SELECT id, ? FROM events WHERE id ${rows.where}`, [
      imagesSeq,
      ...rows.params,
    ]);
    sql.run(`DELETE FROM raw WHERE event_id ${rows.where}`, rows.params);
    const { changes } = sql.run(`DELETE FROM events WHERE id ${rows.where}`, rows.params);
    this.postings.remove(ids);
    // Blocks that lost a quarter of their events are rebuilt, so the overlay stays small.
    if (ids.length >= 1000) this.postings.compact(0.25);
    this.dropUnlinkedIndicators(touched);
    if (hi > this.maxGhost) this.maxGhost = hi;
    for (const id of ids) this.columns.remove(id);
    this.eventCount -= changes;
    this.knownIndicators.clear();
    return changes;
  }

  /**
   * Deletes the full-text entries of up to `limit` ghosts (see removeIds), so that removed
   * events do not keep their words in the index for ever. Answers how many were cleared.
   */
  clearGhosts(limit: number): number {
    return this.sql.transaction(() => {
      const ids = this.sql
        .all<{ id: number }>('SELECT id FROM fts_ghosts ORDER BY id LIMIT ?', [limit])
        .map((r) => r.id);
      for (const id of ids) this.sql.run('DELETE FROM events_fts WHERE rowid = ?', [id]);
      if (ids.length)
        this.sql.run('DELETE FROM fts_ghosts WHERE id IN (SELECT value FROM json_each(?))', [
          JSON.stringify(ids),
        ]);
      return ids.length;
    });
  }

  /** Rebuilds the posting blocks whose overlaid share reaches `share`; answers how many. */
  compactPostings(share: number): number {
    return this.write(() => this.postings.compact(share));
  }

  /**
   * Appends one journal row (a no-op when journaling is off): `ids` lists inserted events,
   * `imagesOf` the events whose current state is kept, copied by SQL into journal_events/raw.
   */
  private journal(
    op: 'insert' | 'update' | 'delete',
    ids: readonly number[] | null,
    imagesOf: readonly number[] | null,
  ): number | null {
    if (!this.journaling) return null;
    const { lastRowId: seq } = this.sql.run('INSERT INTO journal (at_ms, op, ids) VALUES (?, ?, ?)', [
      this.clock.now(),
      op,
      ids ? JSON.stringify(ids) : null,
    ]);
    if (imagesOf?.length) {
      const list = JSON.stringify(imagesOf);
      this.sql.run(
        `INSERT OR IGNORE INTO journal_events (seq, ${EVENT_COLUMNS})
         SELECT ?, ${EVENT_COLUMNS} FROM events WHERE id IN (SELECT value FROM json_each(?))`,
        [seq, list],
      );
      this.sql.run(
        `INSERT OR IGNORE INTO journal_raw (seq, ${RAW_COLUMNS})
         SELECT ?, ${RAW_COLUMNS} FROM raw WHERE event_id IN (SELECT value FROM json_each(?))`,
        [seq, list],
      );
    }
    return seq;
  }

  /** The journal position of the current state (0 for a shard never written). */
  bookmark(): number {
    return this.sql.one<{ s: number | null }>('SELECT max(seq) AS s FROM journal')?.s ?? 0;
  }

  /** The journal position of the state at a moment: the last change at or before it. */
  positionAt(ms: number): number {
    return (
      this.sql.one<{ s: number | null }>('SELECT max(seq) AS s FROM journal WHERE at_ms <= ?', [ms])?.s ?? 0
    );
  }

  /** The time of the oldest change still journaled (the revert window starts there). */
  oldestJournaled(): number | undefined {
    return this.sql.one<{ t: number | null }>('SELECT min(at_ms) AS t FROM journal')?.t ?? undefined;
  }

  /**
   * Brings the shard back to its state at journal position `position`: undoes every later
   * change, newest first, in one transaction. The undo is journaled like any write, so a later
   * revert to the position before this one undoes the revert. Answers the events changed.
   */
  revertTo(position: number): number {
    let changed = 0;
    let rewritten = false;
    try {
      this.write(() => {
        const entries = this.sql.all<{ seq: number; op: string; ids: string | null; before: string | null }>(
          'SELECT seq, op, ids, before FROM journal WHERE seq > ? ORDER BY seq DESC',
          [position],
        );
        // Undoing inserts removes what is still there, its image kept for an undo. A run of
        // insert entries is undone as one removal: the order among them does not matter.
        let inserted: number[] = [];
        const undoInserts = () => {
          const ids = this.existingOf(inserted);
          inserted = [];
          if (ids.length === 0) return;
          changed += this.removeIds(ids, this.journal('delete', null, ids));
        };
        for (const entry of entries) {
          if (entry.op === 'insert') {
            for (const id of JSON.parse(entry.ids ?? '[]') as number[]) inserted.push(id);
          } else {
            undoInserts();
            // update or delete: put the before images back in place of what is there now.
            rewritten = true;
            changed += this.restoreImages(entry.seq, entry.before);
          }
        }
        undoInserts();
      });
    } catch (err) {
      rewritten = true;
      throw err;
    } finally {
      this.knownIndicators.clear();
      // Removals kept the column copy in step; re-inserted images did not.
      if (rewritten) this.columns.invalidate();
      this.eventCount = this.sql.one<{ n: number }>('SELECT count(*) AS n FROM events')?.n ?? 0;
    }
    return changed;
  }

  /**
   * Puts the before images of journal entry `seq` back in place of what is there now, journaling
   * the change; answers the number of events restored. Images kept as row copies are restored
   * with set-based statements (undoing a revert of 100,000 inserts is a few passes, not 100,000
   * inserts), and a ghost left by the removal that took an image keeps serving as its full text.
   */
  private restoreImages(seq: number, before: string | null): number {
    const sql = this.sql;
    const ids =
      before === null
        ? sql
            .all<{ id: number }>('SELECT id FROM journal_events WHERE seq = ? ORDER BY id', [seq])
            .map((r) => r.id)
        : (JSON.parse(before) as NewEvent[]).map((e) => e.id);
    if (ids.length === 0) return 0;
    const present = this.existing(JSON.stringify(ids));
    const isPresent = new Set(present);
    const absent = ids.filter((id) => !isPresent.has(id));
    const updateSeq = present.length ? this.journal('update', null, present) : null;
    if (absent.length) this.journal('insert', absent, null);
    this.removeIds(present, updateSeq);
    if (before !== null) {
      // Images of older shards, kept as JSON in the journal row.
      this.insertRows(toBatch(JSON.parse(before) as NewEvent[]));
    } else {
      const mine = 'journal_events je WHERE je.seq = ?';
      sql.run(
        `INSERT INTO events (${EVENT_COLUMNS}) SELECT ${EVENT_COLUMNS} FROM journal_events WHERE seq = ?`,
        [seq],
      );
      sql.run(`INSERT INTO raw (${RAW_COLUMNS}) SELECT ${RAW_COLUMNS} FROM journal_raw WHERE seq = ?`, [seq]);
      this.postings.addWhere('id IN (SELECT id FROM journal_events WHERE seq = ?)', [seq]);
      const now = this.clock.now();
      const missing = sql.all<{ type: string; value: string }>(
        `SELECT DISTINCT j.value ->> 'type' AS type, j.value ->> 'value' AS value
         FROM journal_events je, json_each(je.indicators) j WHERE je.seq = ?
           AND NOT EXISTS (SELECT 1 FROM indicators i WHERE i.value = j.value ->> 'value' AND i.type = j.value ->> 'type')`,
        [seq],
      );
      for (const ref of missing) this.ensureIndicator(ref, now);
      // Full text: a ghost left when this very image was taken already holds its words; any
      // other ghost of these ids holds other words and goes before the words are written.
      const kept = new Set(
        sql
          .all<{ id: number }>(
            `DELETE FROM fts_ghosts WHERE seq = ? AND id IN (SELECT id FROM ${mine}) RETURNING id`,
            [seq, seq],
          )
          .map((r) => r.id),
      );
      const stale = sql
        .all<{ id: number }>(`DELETE FROM fts_ghosts WHERE id IN (SELECT id FROM ${mine}) RETURNING id`, [
          seq,
        ])
        .map((r) => r.id);
      for (const id of stale) sql.run('DELETE FROM events_fts WHERE rowid = ?', [id]);
      sql.run(
        `INSERT INTO events_fts (rowid, event, insight, indicator)
         SELECT je.id, je.event, coalesce(je.insight, ''),
           (SELECT coalesce(group_concat(j.value ->> 'value', ' ' ORDER BY j.key), '') FROM json_each(je.indicators) j)
         FROM ${mine} AND je.id NOT IN (SELECT value FROM json_each(?))`,
        [seq, JSON.stringify([...kept])],
      );
    }
    this.eventCount += ids.length;
    return ids.length;
  }

  /** Forgets journal entries older than the revert window. */
  pruneJournal(beforeMs: number): number {
    return this.sql.transaction(() => {
      for (const table of ['journal_events', 'journal_raw'])
        this.sql.run(`DELETE FROM ${table} WHERE seq IN (SELECT seq FROM journal WHERE at_ms < ?)`, [
          beforeMs,
        ]);
      return this.sql.run('DELETE FROM journal WHERE at_ms < ?', [beforeMs]).changes;
    });
  }

  /**
   * How conditions run. The posting condition (tags, attacker or indicator with equals/in) with
   * the fewest events drives: its lists are walked in date order. Date ranges bound the walk.
   * Every other condition is tested by SQL on the driven candidates, a batch at a time.
   */
  private plan(conditions: readonly Condition[]): Plan {
    let driver: { keys: string[]; size: number; index: number } | undefined;
    conditions.forEach((c, index) => {
      if (c.op !== 'equals' && c.op !== 'in') return;
      if (c.field !== 'tags' && c.field !== 'attacker' && c.field !== 'indicator') return;
      const values = (Array.isArray(c.value) ? c.value : [c.value]) as string[];
      const keys =
        c.field === 'indicator'
          ? values.flatMap((v) => this.indicatorTypes(v).map((t) => indicatorKey(t, v)))
          : values.map((v) => postingKey(c.field === 'tags' ? 'tag' : 'attacker', v));
      const size = keys.reduce((n, k) => n + this.postings.count(k), 0);
      if (!driver || size < driver.size) driver = { keys, size, index };
    });
    const bounds: { loMs?: number; hiMs?: number } = {};
    const rest: Condition[] = [];
    conditions.forEach((c, index) => {
      if (index === driver?.index) return;
      if (c.kind === 'date' && c.field === 'date' && typeof c.value === 'number') {
        const v = c.value;
        const lo = { gt: v + 1, gte: v, equals: v }[c.op as 'gt'];
        const hi = { lt: v - 1, lte: v, equals: v }[c.op as 'lt'];
        if (lo !== undefined) bounds.loMs = Math.max(bounds.loMs ?? lo, lo);
        if (hi !== undefined) bounds.hiMs = Math.min(bounds.hiMs ?? hi, hi);
        if (lo !== undefined || hi !== undefined) return;
      }
      rest.push(c);
    });
    if (driver) return { keys: driver.keys, rest, bounds };
    // Without a posting condition, the date order of every event drives, unless full text or a
    // uuid picks the candidates better (SQL then starts from them).
    const sqlFirst = rest.some(
      (c) =>
        (c.op === 'find' && (c.field === 'event' || c.field === 'indicator')) ||
        (c.field === 'uuid' && (c.op === 'equals' || c.op === 'in')),
    );
    return { keys: sqlFirst ? undefined : [postingKey('all')], rest, bounds };
  }

  /** Types under which an indicator value is stored. */
  private indicatorTypes(value: string): string[] {
    return this.sql
      .all<{ type: string }>('SELECT type FROM indicators WHERE value = ?', [value])
      .map((r) => r.type);
  }

  /** The driven candidates of a plan, in walk order, as batches of ids that pass every other condition. */
  private *driven(
    plan: Plan & { keys: string[] },
    walk: Walk,
    firstBatch: number,
  ): Generator<{ dateMs: number; id: number }[]> {
    const it = walkRuns(
      plan.keys.flatMap((k) => this.postings.runs(k)),
      { ...walk, ...plan.bounds },
    );
    const compiled = plan.rest.length ? compileSearch(plan.rest) : undefined;
    let batch = firstBatch;
    for (;;) {
      const candidates: { dateMs: number; id: number }[] = [];
      for (
        let next = it.next();
        !next.done;
        next = candidates.length < batch ? it.next() : { done: true, value: undefined }
      ) {
        candidates.push({ dateMs: next.value[0], id: next.value[1] });
      }
      if (candidates.length === 0) return;
      if (!compiled) yield candidates;
      else {
        const passed = new Set(
          this.sql
            .all<{ id: number }>(
              `SELECT e.id FROM events e WHERE e.id IN (SELECT value FROM json_each(?)) AND ${compiled.where.join(' AND ')}`,
              [JSON.stringify(candidates.map((c) => c.id)), ...compiled.params],
            )
            .map((r) => r.id),
        );
        yield candidates.filter((c) => passed.has(c.id));
      }
      batch = Math.min(batch * 4, WALK_BATCH);
    }
  }

  /** The page of a search ordered by date, through the postings; undefined when SQL serves it better. */
  private walkPage(q: ShardQuery): { dateMs: number; id: number }[] | undefined {
    if (q.orderBy !== 'date') return undefined;
    const plan = this.plan(q.conditions);
    if (!plan.keys) return undefined;
    const out: { dateMs: number; id: number }[] = [];
    if (q.limit <= 0) return out;
    let skip = q.offset ?? 0;
    const after = q.after ? { dateMs: Number(q.after.value), id: q.after.id } : undefined;
    const first = Math.min(Math.max(64, 2 * (q.limit + skip)), WALK_BATCH);
    for (const batch of this.driven({ ...plan, keys: plan.keys }, { order: q.order, after }, first)) {
      for (const row of batch) {
        if (skip > 0) skip--;
        else if (out.push(row) >= q.limit) return out;
      }
    }
    return out;
  }

  /** Ids of the events matching the conditions, at most `limit`. */
  private matchingIds(
    conditions: readonly Condition[],
    limit: number,
    plan = this.plan(conditions),
  ): number[] {
    if (!plan.keys) {
      const compiled = compileSearch(conditions);
      const where = compiled.where.length ? `WHERE ${compiled.where.join(' AND ')}` : '';
      return this.sql
        .all<{ id: number }>(`SELECT e.id FROM events e ${where} LIMIT ?`, [...compiled.params, limit])
        .map((r) => r.id);
    }
    const ids: number[] = [];
    for (const batch of this.driven({ ...plan, keys: plan.keys }, { order: 'desc' }, WALK_BATCH)) {
      for (const row of batch) if (ids.push(row.id) >= limit) return ids;
    }
    return ids;
  }

  /** Every event uuid matching the conditions (bulk delete by search). */
  matchingUuids(conditions: readonly Condition[], limit: number): string[] {
    const ids = this.matchingIds(conditions, limit);
    return this.sql
      .all<{ uuid: string }>('SELECT uuid FROM events WHERE id IN (SELECT value FROM json_each(?))', [
        JSON.stringify(ids),
      ])
      .map((r) => r.uuid);
  }

  /** Sort keys of the matching rows, in order (cheap: used to merge pages across shards). */
  searchKeys(q: ShardQuery): RowKey[] {
    const walked = this.walkPage(q);
    if (walked) return walked.map((r) => ({ value: r.dateMs, id: r.id }));
    const { sql, params } = this.selectSql(q, 'keys');
    return this.sql.all<{ k: SortValue; id: number }>(sql, params).map((r) => ({ value: r.k, id: r.id }));
  }

  /** Matching events, in order. */
  search(q: ShardQuery): StoredEvent[] {
    const walked = this.walkPage(q);
    if (walked) return this.getByKeys(walked.map((r) => r.id));
    const { sql, params } = this.selectSql(q, 'rows');
    return this.sql.all<EventRow>(sql, params).map(toEvent);
  }

  /** Number of events matching the conditions. */
  count(conditions: readonly Condition[]): number {
    if (conditions.length === 0) return this.eventCount;
    const plan = this.plan(conditions);
    if (plan.keys && plan.rest.length === 0)
      return this.postings.countWalk(plan.keys, { order: 'desc', ...plan.bounds });
    if (drivenByCondition(plan)) {
      let n = 0;
      for (const batch of this.driven(plan, { order: 'desc' }, WALK_BATCH)) n += batch.length;
      return n;
    }
    const compiled = compileSearch(conditions);
    const where = compiled.where.length ? `WHERE ${compiled.where.join(' AND ')}` : '';
    return (
      this.sql.one<{ n: number }>(`SELECT count(*) AS n FROM events e ${where}`, compiled.params)?.n ?? 0
    );
  }

  private selectSql(q: ShardQuery, what: 'keys' | 'rows'): { sql: string; params: unknown[] } {
    const compiled = compileSearch(q.conditions);
    const pieces = orderPieces(q.orderBy, q.order);
    const where = [...compiled.where];
    const params = [...compiled.params];
    const plan = this.plan(q.conditions);
    if (drivenByCondition(plan)) {
      // Another order than date: the driving condition's events, sorted by SQL.
      where.push('e.id IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(this.matchingIds(q.conditions, Number.MAX_SAFE_INTEGER, plan)));
    }
    if (q.after) {
      const keyset = keysetCondition(pieces, q.order, q.after, q.orderBy);
      where.push(keyset.sql);
      params.push(...keyset.params);
    }
    const select = what === 'keys' ? `${pieces.sortExpr} AS k, ${pieces.idExpr} AS id` : 'e.*';
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    params.push(q.limit, q.offset ?? 0);
    return {
      sql: `SELECT ${select} FROM events e ${whereSql} ORDER BY ${pieces.orderSql} LIMIT ? OFFSET ?`,
      params,
    };
  }

  /** Ids of the events listed under any of the keys, newest first (`limit` < 0: all). */
  private listed(keys: readonly string[], limit: number): number[] {
    const ids: number[] = [];
    if (limit === 0) return ids;
    for (const [, id] of walkRuns(
      keys.flatMap((k) => this.postings.runs(k)),
      { order: 'desc' },
    ))
      if (ids.push(id) === limit) break;
    return ids;
  }

  /** Events carrying an indicator, newest first; `limit` < 0 means all. */
  indicatorEvents(type: string, value: string, limit: number): { uuid: string; dateMs: number }[] {
    const ids = this.listed([indicatorKey(type, value)], limit);
    const rows = this.sql.all<{ id: number; uuid: string; date_ms: number }>(
      'SELECT id, uuid, date_ms FROM events WHERE id IN (SELECT value FROM json_each(?))',
      [JSON.stringify(ids)],
    );
    const byId = new Map(rows.map((r) => [r.id, { uuid: r.uuid, dateMs: r.date_ms }]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /** Ids of the events carrying any of these tags (a JSON array, for SQL). */
  idsWithTags(tags: readonly string[]): string {
    return JSON.stringify(
      this.listed(
        tags.map((t) => postingKey('tag', t)),
        -1,
      ),
    );
  }

  /** Ids of the events carrying an indicator (a JSON array, for SQL). */
  idsWithIndicator(type: string, value: string): string {
    return JSON.stringify(this.listed([indicatorKey(type, value)], -1));
  }

  /** Every tag carried by an event of this shard, sorted. */
  tagNames(): string[] {
    return this.postings.values('tag');
  }

  /** Events by integer key (used after a merge of keys). */
  getByKeys(ids: readonly number[]): StoredEvent[] {
    if (ids.length === 0) return [];
    const rows = this.sql.all<EventRow>(`SELECT * FROM events WHERE id IN (SELECT value FROM json_each(?))`, [
      JSON.stringify(ids),
    ]);
    const byId = new Map(rows.map((r) => [r.id, toEvent(r)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /** Distinct non-empty values of a column, sorted (attackers, target industries, …). */
  distinct(column: 'attacker' | 'target_industry' | 'category' | 'indicator_type'): string[] {
    return this.sql
      .all<{ v: string }>(`SELECT DISTINCT ${column} AS v FROM events WHERE ${column} <> '' ORDER BY v`)
      .map((r) => r.v);
  }
}

function ftsIndicatorText(e: StoredEvent): string {
  return e.indicators.map((i) => i.value).join(' ');
}
