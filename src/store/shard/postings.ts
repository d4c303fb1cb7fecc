import type { Sql } from '../sql.ts';

/**
 * Block postings: the shard's look-ups by tag, attacker and indicator (and its date order) without
 * a B-tree entry per event in random key order (docs/design-block-postings.md).
 *
 * A posting list holds (date, id) pairs sorted newest first (date desc, then id desc). The
 * events whose id is above the last sealed block ("the open range") keep their lists in memory;
 * once that range holds `blockSize` events it is sealed: one blob per key is written to
 * `postings`, in one pass, and never changed again. Changes to an event of a sealed range
 * (an edit of a listed field, a delete, an event re-inserted with an old id) put its id in the
 * overlay: the sealed entries of an overlaid id are skipped, and its current entries live in
 * memory with the open range's. `compact` rebuilds a block from `events` when its overlay grows.
 * Everything in memory is rebuilt from SQLite by `load` (at open, and after a rolled-back write).
 */

/** The listed fields; `all` lists every event (the date order of the whole shard). */
export const FIELDS = { all: 0, tag: 1, attacker: 2, indicator: 3 } as const;
export type PostingField = keyof typeof FIELDS;

/** What the postings read of an event. */
export interface PostingEvent {
  id: number;
  dateMs: number;
  attacker: string;
  tags: readonly string[];
  indicators: readonly { type: string; value: string }[];
}

/** The key of one posting list: field number, then the value. */
export function postingKey(field: PostingField, value = ''): string {
  return `${FIELDS[field]}\u0001${value}`;
}

/** The key of an indicator's list. */
export function indicatorKey(type: string, value: string): string {
  return postingKey('indicator', `${type}\u0000${value}`);
}

/** Every list an event belongs to, each once. */
export function keysOf(e: PostingEvent): string[] {
  const keys = new Set<string>([postingKey('all'), postingKey('attacker', e.attacker)]);
  for (const t of e.tags) keys.add(postingKey('tag', t));
  for (const i of e.indicators) keys.add(indicatorKey(i.type, i.value));
  return [...keys];
}

function splitKey(key: string): { field: number; value: string } {
  const cut = key.indexOf('\u0001');
  return { field: Number(key.slice(0, cut)), value: key.slice(cut + 1) };
}

/** True when pair a comes before pair b newest first. */
const before = (da: number, ia: number, db: number, ib: number) => da > db || (da === db && ia > ib);

/** Sorts (date, id) pairs newest first. */
function sortPairs(src: ArrayLike<number>, from: number, to: number): Float64Array {
  const n = (to - from) >> 1;
  if (n === 1) return Float64Array.of(src[from] as number, src[from + 1] as number);
  const order = new Uint32Array(n);
  for (let k = 0; k < n; k++) order[k] = from + 2 * k;
  order.sort((a, b) => {
    const da = src[a] as number;
    const db = src[b] as number;
    if (da !== db) return db - da;
    return (src[b + 1] as number) - (src[a + 1] as number);
  });
  const out = new Float64Array(2 * n);
  for (let k = 0; k < n; k++) {
    const at = order[k] as number;
    out[2 * k] = src[at] as number;
    out[2 * k + 1] = src[at + 1] as number;
  }
  return out;
}

function mergePairs(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) {
    if (before(a[i] as number, a[i + 1] as number, b[j] as number, b[j + 1] as number)) {
      out[k++] = a[i++] as number;
      out[k++] = a[i++] as number;
    } else {
      out[k++] = b[j++] as number;
      out[k++] = b[j++] as number;
    }
  }
  out.set(a.subarray(i), k);
  out.set(b.subarray(j), k + a.length - i);
  return out;
}

/** A list in memory: pairs appended as they come, sorted on demand (only the new tail is sorted). */
/** The sorted copy of a list never read yet (shared: most open lists are never read). */
const UNSORTED = new Float64Array(0);

class OpenList {
  data: number[] = [];
  private sorted: Float64Array = UNSORTED;

  add(dateMs: number, id: number): void {
    this.data.push(dateMs, id);
  }
  get count(): number {
    return this.data.length >> 1;
  }
  /** Keeps the pairs whose id passes. */
  filter(keep: (id: number) => boolean): void {
    const next: number[] = [];
    for (let k = 0; k < this.data.length; k += 2) {
      const id = this.data[k + 1] as number;
      if (keep(id)) next.push(this.data[k] as number, id);
    }
    this.data = next;
    this.sorted = UNSORTED;
  }
  run(): Float64Array {
    if (this.sorted.length < this.data.length) {
      const tail = sortPairs(this.data, this.sorted.length, this.data.length);
      this.sorted = this.sorted.length ? mergePairs(this.sorted, tail) : tail;
    }
    return this.sorted;
  }
}

/**
 * The open lists, one map per field and indicators by type then value: the hot path looks up
 * the event's own strings, whose hashes V8 computes once, instead of building key strings.
 * Read by key like one map.
 */
class OpenLists {
  private readonly byField: Map<string, OpenList>[] = [new Map(), new Map(), new Map()];
  private readonly indicators = new Map<string, Map<string, OpenList>>();

  /** Lists one event under (field, value), once even when the event names the value twice. */
  push(map: Map<string, OpenList>, value: string, dateMs: number, id: number): void {
    const list = map.get(value);
    if (!list) {
      const created = new OpenList();
      created.add(dateMs, id);
      map.set(value, created);
    } else if (list.data[list.data.length - 1] !== id) list.add(dateMs, id);
  }
  field(field: 0 | 1 | 2): Map<string, OpenList> {
    return this.byField[field] as Map<string, OpenList>;
  }
  indicatorType(type: string): Map<string, OpenList> {
    let map = this.indicators.get(type);
    if (!map) {
      map = new Map();
      this.indicators.set(type, map);
    }
    return map;
  }
  private locate(key: string): { map: Map<string, OpenList> | undefined; value: string } {
    const { field, value } = splitKey(key);
    if (field !== FIELDS.indicator) return { map: this.byField[field], value };
    const cut = value.indexOf('\u0000');
    return { map: this.indicators.get(value.slice(0, cut)), value: value.slice(cut + 1) };
  }
  get(key: string): OpenList | undefined {
    const { map, value } = this.locate(key);
    return map?.get(value);
  }
  /** Every list with its stored field and key, and a way to drop it. */
  slots(): { field: number; key: string; list: OpenList; drop: () => void }[] {
    const out: { field: number; key: string; list: OpenList; drop: () => void }[] = [];
    this.byField.forEach((map, field) => {
      for (const [value, list] of map) out.push({ field, key: value, list, drop: () => map.delete(value) });
    });
    for (const [type, map] of this.indicators)
      for (const [value, list] of map)
        out.push({
          field: FIELDS.indicator,
          key: `${type}\u0000${value}`,
          list,
          drop: () => map.delete(value),
        });
    return out;
  }
}

/** One sorted list to read: a sealed block's (whose overlaid ids are skipped) or an open one. */
export interface Run {
  pairs: Float64Array;
  skip?: ReadonlySet<number> | undefined;
}

/** Bounds of a walk: strictly after a position, and dates within [loMs, hiMs]. */
export interface Walk {
  order: 'asc' | 'desc';
  after?: { dateMs: number; id: number } | undefined;
  loMs?: number | undefined;
  hiMs?: number | undefined;
}

/**
 * Index (even) of the first pair newest first that is strictly older than (d, id), or with
 * `orEqual`, older or equal.
 */
function firstOlder(p: Float64Array, d: number, id: number, orEqual = false): number {
  let lo = 0;
  let hi = p.length >> 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const newer = before(p[2 * mid] as number, p[2 * mid + 1] as number, d, id);
    const older = orEqual ? !newer : before(d, id, p[2 * mid] as number, p[2 * mid + 1] as number);
    if (older) hi = mid;
    else lo = mid + 1;
  }
  return 2 * lo;
}

/** Index (even) of the first pair whose date is at most d. */
function firstAtMost(p: Float64Array, d: number): number {
  let lo = 0;
  let hi = p.length >> 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((p[2 * mid] as number) <= d) hi = mid;
    else lo = mid + 1;
  }
  return 2 * lo;
}

/** A position in one run, moving newest first (step 2) or oldest first (step -2). */
interface Cursor {
  p: Float64Array;
  at: number;
  end: number;
  step: number;
  skip: ReadonlySet<number> | undefined;
}

function cursorOf(run: Run, walk: Walk): Cursor | undefined {
  const p = run.pairs;
  // The slice [from, to) of the run inside the walk's bounds, newest first.
  let from = walk.hiMs === undefined ? 0 : firstAtMost(p, walk.hiMs);
  let to = walk.loMs === undefined ? p.length : firstAtMost(p, walk.loMs - 1);
  if (walk.after) {
    // Strictly after the position: older ones newest first, newer ones oldest first.
    const { dateMs, id } = walk.after;
    if (walk.order === 'desc') from = Math.max(from, firstOlder(p, dateMs, id));
    else to = Math.min(to, firstOlder(p, dateMs, id, true));
  }
  if (from >= to) return undefined;
  return walk.order === 'desc'
    ? { p, at: from, end: to, step: 2, skip: run.skip }
    : { p, at: to - 2, end: from - 2, step: -2, skip: run.skip };
}

/**
 * Every pair of the runs inside the walk, in its order, each event once (an event listed under
 * two of the keys asked for, or sealed and re-listed, comes out once). A k-way merge on a heap.
 */
export function* walkRuns(runs: readonly Run[], walk: Walk): Generator<[number, number]> {
  const desc = walk.order === 'desc';
  const heap: Cursor[] = [];
  const first = (a: Cursor, b: Cursor) => {
    const r = before(
      a.p[a.at] as number,
      a.p[a.at + 1] as number,
      b.p[b.at] as number,
      b.p[b.at + 1] as number,
    );
    return desc ? r : !r;
  };
  const up = (k: number) => {
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (!first(heap[k] as Cursor, heap[parent] as Cursor)) break;
      [heap[k], heap[parent]] = [heap[parent] as Cursor, heap[k] as Cursor];
      k = parent;
    }
  };
  const down = (k: number) => {
    for (;;) {
      const l = 2 * k + 1;
      const r = l + 1;
      let best = k;
      if (l < heap.length && first(heap[l] as Cursor, heap[best] as Cursor)) best = l;
      if (r < heap.length && first(heap[r] as Cursor, heap[best] as Cursor)) best = r;
      if (best === k) return;
      [heap[k], heap[best]] = [heap[best] as Cursor, heap[k] as Cursor];
      k = best;
    }
  };
  for (const run of runs) {
    const c = cursorOf(run, walk);
    if (c) {
      heap.push(c);
      up(heap.length - 1);
    }
  }
  let lastDate = Number.NaN;
  let lastId = Number.NaN;
  while (heap.length) {
    const c = heap[0] as Cursor;
    const d = c.p[c.at] as number;
    const id = c.p[c.at + 1] as number;
    c.at += c.step;
    if (c.at === c.end) {
      const tail = heap.pop() as Cursor;
      if (heap.length) {
        heap[0] = tail;
        down(0);
      }
    } else down(0);
    if (c.skip?.has(id) || (id === lastId && d === lastDate)) continue;
    lastDate = d;
    lastId = id;
    yield [d, id];
  }
}

/** A stored list as pairs (copied: a returned blob need not be 8-byte aligned). */
function toPairs(blob: Uint8Array): Float64Array {
  const bytes = new Uint8Array(blob.byteLength);
  bytes.set(blob);
  return new Float64Array(bytes.buffer);
}

interface Block {
  block: number;
  lo: number;
  hi: number;
}

interface EventKeysRow {
  id: number;
  date_ms: number;
  attacker: string;
  tags: string;
  indicators: string;
}

/**
 * One list's rows across the blocks: postings are keyed by (block, field, key), so that sealing
 * appends, and a list is read with one index seek per block.
 */
const IN_BLOCKS = 'block IN (SELECT block FROM postings_blocks) AND field = ? AND key = ?';

const EVENT_KEYS = 'SELECT id, date_ms, attacker, tags, indicators FROM events';

const toPostingEvent = (r: EventKeysRow): PostingEvent => ({
  id: r.id,
  dateMs: r.date_ms,
  attacker: r.attacker,
  tags: JSON.parse(r.tags) as string[],
  indicators: JSON.parse(r.indicators) as { type: string; value: string }[],
});

/** Bytes of decoded sealed lists kept per shard. */
const CACHE_BYTES = 96 * 1024 * 1024;

/** The block postings of one shard (see the top of this file). Pure and synchronous. */
export class Postings {
  private blocks: Block[] = [];
  private sealedHi = Number.NEGATIVE_INFINITY;
  private open = new OpenLists();
  private openCount = 0;
  private overlay = new Set<number>();
  /** Bumped whenever a sealed list or the overlay changes (cache validity). */
  private version = 0;
  private readonly cache = new Map<string, { version: number; runs: Float64Array[]; bytes: number }>();
  private cacheBytes = 0;
  private readonly counts = new Map<string, { version: number; count: number }>();

  constructor(
    private readonly sql: Sql,
    private readonly blockSize: number,
  ) {}

  /** Reads the sealed blocks and overlay and rebuilds the lists in memory; seals what is due. */
  load(): void {
    this.blocks = this.sql.all<Block>('SELECT block, lo, hi FROM postings_blocks ORDER BY block');
    this.sealedHi = this.blocks.length ? Math.max(...this.blocks.map((b) => b.hi)) : Number.NEGATIVE_INFINITY;
    this.overlay = new Set(this.sql.all<{ id: number }>('SELECT id FROM postings_overlay').map((r) => r.id));
    this.open = new OpenLists();
    this.openCount = 0;
    this.forget();
    const above = this.blocks.length ? this.sealedHi : -1;
    if (this.overlay.size)
      for (const row of this.sql.all<EventKeysRow>(
        `${EVENT_KEYS} WHERE id IN (SELECT id FROM postings_overlay) AND id <= ?`,
        [above],
      ))
        this.list(toPostingEvent(row), false);
    // The open range a block at a time: a shard written before postings existed is read and
    // sealed in steps, never held in memory whole.
    for (let after = above; ; ) {
      const rows = this.sql.all<EventKeysRow>(`${EVENT_KEYS} WHERE id > ? ORDER BY id LIMIT ?`, [
        after,
        this.blockSize,
      ]);
      for (const row of rows) this.list(toPostingEvent(row), true);
      this.sealDue();
      if (rows.length < this.blockSize) break;
      after = (rows[rows.length - 1] as EventKeysRow).id;
    }
  }

  /** Drops everything decoded from sealed blocks (after a change to them). */
  private forget(): void {
    this.version++;
    this.cache.clear();
    this.cacheBytes = 0;
    this.counts.clear();
  }

  private list(e: PostingEvent, openRange: boolean): void {
    const { dateMs, id } = e;
    const open = this.open;
    open.push(open.field(0), '', dateMs, id);
    open.push(open.field(2), e.attacker, dateMs, id);
    const tags = open.field(1);
    for (const t of e.tags) open.push(tags, t, dateMs, id);
    for (const i of e.indicators) open.push(open.indicatorType(i.type), i.value, dateMs, id);
    if (openRange) this.openCount++;
  }

  /** Lists stored events (inside the caller's transaction). */
  add(events: readonly PostingEvent[]): void {
    for (const e of events) this.addOne(e);
  }

  /** Lists one stored event (inside the caller's transaction). */
  addOne(e: PostingEvent): void {
    const openRange = e.id > this.sealedHi;
    if (!openRange) this.overlayId(e.id);
    this.list(e, openRange);
  }

  /** Lists the stored events selected by a `WHERE` clause over `events`. */
  addWhere(where: string, params: readonly unknown[]): void {
    this.add(this.sql.all<EventKeysRow>(`${EVENT_KEYS} WHERE ${where}`, params).map(toPostingEvent));
  }

  private overlayId(id: number): void {
    if (this.overlay.has(id)) return;
    this.overlay.add(id);
    this.sql.run('INSERT OR IGNORE INTO postings_overlay (id) VALUES (?)', [id]);
    this.forget();
  }

  /**
   * Unlists stored events about to be removed or changed. With `keys` (every list of theirs,
   * when known) only those lists are touched; without, every list in memory is filtered once.
   */
  remove(ids: readonly number[], keys?: readonly string[]): void {
    if (ids.length === 0) return;
    const gone = new Set(ids);
    for (const id of gone) {
      if (id <= this.sealedHi) this.overlayId(id);
      else this.openCount--;
    }
    const lists = keys ? keys.flatMap((k) => this.open.get(k) ?? []) : this.open.slots().map((s) => s.list);
    for (const list of lists) list.filter((id) => !gone.has(id));
  }

  /** Seals the open range into a block once it holds `blockSize` events (inside a transaction). */
  sealDue(): void {
    while (this.openCount >= this.blockSize) this.seal();
  }

  private seal(): void {
    const all = this.open.get(postingKey('all'));
    if (!all) return;
    // The block takes the open range's first `blockSize` ids (all of them when it is exactly full).
    const ids: number[] = [];
    for (let k = 1; k < all.data.length; k += 2) {
      const id = all.data[k] as number;
      if (id > this.sealedHi) ids.push(id);
    }
    ids.sort((a, b) => a - b);
    const hi = ids[Math.min(this.blockSize, ids.length) - 1] as number;
    const lo = ids[0] as number;
    const block = this.blocks.length ? (this.blocks[this.blocks.length - 1] as Block).block + 1 : 0;
    const inBlock = (id: number) => id > this.sealedHi && id <= hi;
    this.sql.run('INSERT INTO postings_blocks (block, lo, hi, count) VALUES (?, ?, ?, ?)', [
      block,
      lo,
      hi,
      ids.length,
    ]);
    let sealed = 0;
    // Keys in order: the rows go into the postings index as one sorted run after the last block's.
    const slots = this.open.slots();
    slots.sort((a, b) => a.field - b.field || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const { field, key, list, drop } of slots) {
      const data = list.data;
      let whole = true;
      for (let k = 1; k < data.length; k += 2) {
        if (!inBlock(data[k] as number)) {
          whole = false;
          break;
        }
      }
      let pairs: number[] = data;
      if (!whole) {
        pairs = [];
        for (let k = 0; k < data.length; k += 2)
          if (inBlock(data[k + 1] as number)) pairs.push(data[k] as number, data[k + 1] as number);
      }
      if (pairs.length === 0) continue;
      this.writeList(field, key, block, sortPairs(pairs, 0, pairs.length));
      if (whole) drop();
      else list.filter((id) => !inBlock(id));
      if (field === FIELDS.all) sealed = pairs.length >> 1;
    }
    this.blocks.push({ block, lo, hi });
    this.sealedHi = hi;
    this.openCount -= sealed;
    this.forget();
  }

  private writeList(field: number, value: string, block: number, pairs: Float64Array): void {
    this.sql.run('INSERT INTO postings (block, field, key, data) VALUES (?, ?, ?, ?)', [
      block,
      field,
      value,
      new Uint8Array(pairs.buffer, pairs.byteOffset, pairs.byteLength),
    ]);
  }

  /**
   * Rebuilds from `events` every sealed block whose overlaid ids reach `share` of its events
   * (all blocks with any overlaid id when share is 0), so the overlay stays small after big
   * removals (a revert) or many edits. Inside a transaction.
   */
  compact(share: number): number {
    if (this.overlay.size === 0) return 0;
    let rebuilt = 0;
    const counts = this.sql.all<{ block: number; count: number }>(
      'SELECT block, count FROM postings_blocks ORDER BY block',
    );
    const sizes = new Map(counts.map((c) => [c.block, c.count]));
    for (const b of this.blocks) {
      let hits = 0;
      for (const id of this.overlay) if (id >= b.lo && id <= b.hi) hits++;
      if (hits === 0 || hits < share * (sizes.get(b.block) ?? 0)) continue;
      this.rebuild(b);
      rebuilt++;
    }
    return rebuilt;
  }

  private rebuild(b: Block): void {
    const rows = this.sql
      .all<EventKeysRow>(`${EVENT_KEYS} WHERE id BETWEEN ? AND ?`, [b.lo, b.hi])
      .map(toPostingEvent);
    const lists = new Map<string, number[]>();
    for (const e of rows) {
      for (const key of keysOf(e)) {
        let list = lists.get(key);
        if (!list) {
          list = [];
          lists.set(key, list);
        }
        list.push(e.dateMs, e.id);
      }
    }
    this.sql.run('DELETE FROM postings WHERE block = ?', [b.block]);
    for (const key of [...lists.keys()].sort()) {
      const pairs = lists.get(key) as number[];
      const { field, value } = splitKey(key);
      this.writeList(field, value, b.block, sortPairs(pairs, 0, pairs.length));
    }
    this.sql.run('UPDATE postings_blocks SET count = ? WHERE block = ?', [rows.length, b.block]);
    const freed: number[] = [];
    for (const id of this.overlay) if (id >= b.lo && id <= b.hi) freed.push(id);
    for (const id of freed) this.overlay.delete(id);
    this.sql.run('DELETE FROM postings_overlay WHERE id BETWEEN ? AND ?', [b.lo, b.hi]);
    // Their current entries are in the block now.
    const inBlock = new Set(freed);
    for (const { list, drop } of this.open.slots()) {
      list.filter((id) => !inBlock.has(id));
      if (list.count === 0) drop();
    }
    this.forget();
  }

  /** The sorted runs of a list: one per sealed block holding it, and the open one. */
  runs(key: string): Run[] {
    const skip = this.overlay.size ? this.overlay : undefined;
    const out: Run[] = this.sealed(key).map((pairs) => ({ pairs, skip }));
    const open = this.open.get(key);
    if (open?.count) out.push({ pairs: open.run() });
    return out;
  }

  private sealed(key: string): Float64Array[] {
    if (this.blocks.length === 0) return [];
    const hit = this.cache.get(key);
    if (hit && hit.version === this.version) {
      // Most recently used last.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit.runs;
    }
    const { field, value } = splitKey(key);
    const runs = this.sql
      .all<{ data: Uint8Array }>(`SELECT data FROM postings WHERE ${IN_BLOCKS} ORDER BY block`, [
        field,
        value,
      ])
      .map((r) => toPairs(r.data));
    const bytes = runs.reduce((n, r) => n + r.byteLength, 0);
    if (hit) {
      this.cache.delete(key);
      this.cacheBytes -= hit.bytes;
    }
    this.cache.set(key, { version: this.version, runs, bytes });
    this.cacheBytes += bytes;
    for (const [k, v] of this.cache) {
      if (this.cacheBytes <= CACHE_BYTES || k === key) break;
      this.cache.delete(k);
      this.cacheBytes -= v.bytes;
    }
    return runs;
  }

  /** Number of events in a list. */
  count(key: string): number {
    const n = this.open.get(key)?.count ?? 0;
    const hit = this.counts.get(key);
    if (hit && hit.version === this.version) return n + hit.count;
    const { field, value } = splitKey(key);
    let sealed = 0;
    // The lengths say it, but for blocks with overlaid ids: only those lists are read.
    const dirty = this.dirtyBlocks();
    for (const r of this.sql.all<{ block: number; bytes: number }>(
      `SELECT block, length(data) AS bytes FROM postings WHERE ${IN_BLOCKS}`,
      [field, value],
    )) {
      if (!dirty.has(r.block)) {
        sealed += r.bytes / 16;
        continue;
      }
      const blob = this.sql.one<{ data: Uint8Array }>(
        'SELECT data FROM postings WHERE block = ? AND field = ? AND key = ?',
        [r.block, field, value],
      )?.data;
      if (blob) {
        const pairs = toPairs(blob);
        for (let k = 1; k < pairs.length; k += 2) if (!this.overlay.has(pairs[k] as number)) sealed++;
      }
    }
    this.counts.set(key, { version: this.version, count: sealed });
    return n + sealed;
  }

  private dirty: { version: number; blocks: Set<number> } = { version: -1, blocks: new Set() };

  /** Sealed blocks whose range holds an overlaid id. */
  private dirtyBlocks(): Set<number> {
    if (this.dirty.version !== this.version) {
      const blocks = new Set<number>();
      if (this.overlay.size)
        for (const b of this.blocks) {
          for (const id of this.overlay)
            if (id >= b.lo && id <= b.hi) {
              blocks.add(b.block);
              break;
            }
        }
      this.dirty = { version: this.version, blocks };
    }
    return this.dirty.blocks;
  }

  /** Number of events of the lists inside the date bounds (every event once). */
  countWalk(keys: readonly string[], walk: Walk): number {
    if (keys.length === 1 && walk.loMs === undefined && walk.hiMs === undefined && !walk.after)
      return this.count(keys[0] as string);
    let n = 0;
    for (const _ of walkRuns(
      keys.flatMap((k) => this.runs(k)),
      walk,
    ))
      n++;
    return n;
  }

  /** The values listed under a field that still have events. */
  values(field: PostingField): string[] {
    const prefix = postingKey(field);
    const found = new Set<string>();
    for (const r of this.sql.all<{ key: string }>(
      'SELECT DISTINCT key FROM postings WHERE block IN (SELECT block FROM postings_blocks) AND field = ?',
      [FIELDS[field]],
    ))
      found.add(r.key);
    for (const slot of this.open.slots()) if (slot.field === FIELDS[field]) found.add(slot.key);
    return [...found].filter((v) => this.count(prefix + v) > 0).sort();
  }
}
