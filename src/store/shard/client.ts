import type { Clock } from '../../domain/clock.ts';
import type { EventPatch, NewEvent, RawPayload, StoredEvent } from '../../domain/events/model.ts';
import type { Condition } from '../../domain/events/search.ts';
import type { DatabaseFactory } from '../sql.ts';
import type { EventBatch } from './batch.ts';
import type { AggGroup, AggQuery } from './columns.ts';
import {
  type IndicatorFilter,
  type IndicatorPage,
  type IndicatorRecord,
  ShardIndicators,
} from './indicators.ts';
import { POSTING_BLOCK, type RowKey, Shard, type ShardQuery } from './shard.ts';
import { datasetOfShard } from './shard-id.ts';

/** Addresses one shard of one account. */
export interface ShardAddress {
  accountId: string;
  shardId: string;
}

/**
 * How the stateless layers reach shards: in-process on Node, RPC to Durable Objects on
 * Workers. Every method is async so both transports fit.
 */
export interface ShardClient {
  size(at: ShardAddress): Promise<number>;
  insertMany(at: ShardAddress, events: readonly NewEvent[]): Promise<void>;
  get(at: ShardAddress, uuid: string): Promise<StoredEvent | undefined>;
  getRaw(at: ShardAddress, uuid: string): Promise<RawPayload | undefined>;
  update(at: ShardAddress, uuid: string, patch: EventPatch): Promise<StoredEvent | undefined>;
  updateRaw(
    at: ShardAddress,
    uuid: string,
    patch: NonNullable<EventPatch['raw']>,
  ): Promise<RawPayload | undefined>;
  search(at: ShardAddress, q: ShardQuery): Promise<StoredEvent[]>;
  searchKeys(at: ShardAddress, q: ShardQuery): Promise<RowKey[]>;
  getByKeys(at: ShardAddress, ids: readonly number[]): Promise<StoredEvent[]>;
  count(at: ShardAddress, conditions: readonly Condition[]): Promise<number>;
  setTags(at: ShardAddress, uuid: string, tags: readonly string[]): Promise<StoredEvent | undefined>;
  aggregate(
    at: ShardAddress,
    q: Omit<AggQuery, 'onlyIds'>,
    conditions: readonly Condition[],
  ): Promise<{ groups: AggGroup[]; total: number; groupCount: number }>;
  setHasChildren(at: ShardAddress, uuid: string, hasChildren: boolean): Promise<void>;
  /** Journal position of the current state, and of the state at a moment. */
  bookmark(at: ShardAddress): Promise<number>;
  positionAt(at: ShardAddress, ms: number): Promise<number>;
  oldestJournaled(at: ShardAddress): Promise<number | undefined>;
  /** Undoes every change after a journal position; answers the events changed. */
  revertTo(at: ShardAddress, position: number): Promise<number>;
  pruneJournal(at: ShardAddress, beforeMs: number): Promise<number>;
  /** Deletes the full-text entries left by up to `limit` removed events; answers how many. */
  clearGhosts(at: ShardAddress, limit: number): Promise<number>;
  /** Rebuilds the posting blocks whose overlaid share reaches `share`; answers how many. */
  compactPostings(at: ShardAddress, share: number): Promise<number>;
  /** Deletes a shard's storage for good (a purged dataset). */
  drop(at: ShardAddress): Promise<void>;
  /** Removes events (and what hangs off them); answers them as storable events. */
  removeMany(at: ShardAddress, uuids: readonly string[]): Promise<NewEvent[]>;
  matchingUuids(at: ShardAddress, conditions: readonly Condition[], limit: number): Promise<string[]>;
  listIndicators(at: ShardAddress, filter: IndicatorFilter, page: IndicatorPage): Promise<IndicatorRecord[]>;
  countIndicators(at: ShardAddress, filter: IndicatorFilter, primaryOnly?: boolean): Promise<number>;
  indicatorUuids(at: ShardAddress, filter: IndicatorFilter): Promise<string[]>;
  indicatorByUuid(at: ShardAddress, uuid: string): Promise<IndicatorRecord | undefined>;
  /** Per indicator id: its events, newest first (`limit` < 0: all), and its tag names. */
  indicatorDetails(
    at: ShardAddress,
    ids: readonly number[],
    limit: number,
    withTags: boolean,
  ): Promise<Map<number, { events: { uuid: string; dateMs: number }[]; tags: string[] }>>;
  indicatorTypes(at: ShardAddress): Promise<string[]>;
  tagNames(at: ShardAddress): Promise<string[]>;
  aggregateIndicators(
    at: ShardAddress,
    by: readonly ('indicatorType' | 'value')[],
    measure: 'indicators' | 'relationships',
    filter: Parameters<ShardIndicators['aggregate']>[2],
  ): Promise<{ key: string[]; count: number }[]>;
  distinct(
    at: ShardAddress,
    column: 'attacker' | 'target_industry' | 'category' | 'indicator_type',
  ): Promise<string[]>;
}

/** Shards opened in this process from a database factory (Node, and tests). */
export class LocalShardClient implements ShardClient {
  private readonly shards = new Map<string, Shard>();

  constructor(
    private readonly dbs: DatabaseFactory,
    private readonly clock: Clock,
    /** Journal every write for point-in-time revert (on unless switched off). */
    private readonly journaling = true,
    /** Events per sealed block of postings. */
    private readonly postingBlock = POSTING_BLOCK,
  ) {}

  private readonly indicatorStores = new Map<string, ShardIndicators>();

  private indicators(at: ShardAddress): ShardIndicators {
    const key = `${at.accountId}/${at.shardId}`;
    let found = this.indicatorStores.get(key);
    if (!found) {
      found = new ShardIndicators(this.dbs.shard(at.accountId, at.shardId), this.open(at));
      this.indicatorStores.set(key, found);
    }
    return found;
  }

  /** The shard object itself, for in-process callers such as benchmarks and maintenance. */
  open(at: ShardAddress): Shard {
    const key = `${at.accountId}/${at.shardId}`;
    let shard = this.shards.get(key);
    if (!shard) {
      shard = new Shard(
        this.dbs.shard(at.accountId, at.shardId),
        this.clock,
        datasetOfShard(at.shardId),
        this.journaling,
        this.postingBlock,
      );
      this.shards.set(key, shard);
    }
    return shard;
  }

  async size(at: ShardAddress): Promise<number> {
    return this.open(at).size();
  }
  async insertMany(at: ShardAddress, events: readonly NewEvent[]): Promise<void> {
    this.open(at).insertMany(events);
  }
  /** insertMany for events already flattened (the storage thread's form of the call). */
  async insertBatch(at: ShardAddress, batch: EventBatch): Promise<void> {
    this.open(at).insertBatch(batch);
  }
  async get(at: ShardAddress, uuid: string): Promise<StoredEvent | undefined> {
    return this.open(at).get(uuid);
  }
  async getRaw(at: ShardAddress, uuid: string): Promise<RawPayload | undefined> {
    return this.open(at).getRaw(uuid);
  }
  async update(at: ShardAddress, uuid: string, patch: EventPatch): Promise<StoredEvent | undefined> {
    return this.open(at).update(uuid, patch);
  }
  async updateRaw(
    at: ShardAddress,
    uuid: string,
    patch: NonNullable<EventPatch['raw']>,
  ): Promise<RawPayload | undefined> {
    return this.open(at).updateRaw(uuid, patch);
  }
  async search(at: ShardAddress, q: ShardQuery): Promise<StoredEvent[]> {
    return this.open(at).search(q);
  }
  async searchKeys(at: ShardAddress, q: ShardQuery): Promise<RowKey[]> {
    return this.open(at).searchKeys(q);
  }
  async getByKeys(at: ShardAddress, ids: readonly number[]): Promise<StoredEvent[]> {
    return this.open(at).getByKeys(ids);
  }
  async count(at: ShardAddress, conditions: readonly Condition[]): Promise<number> {
    return this.open(at).count(conditions);
  }
  async aggregate(
    at: ShardAddress,
    q: Omit<AggQuery, 'onlyIds'>,
    conditions: readonly Condition[],
  ): Promise<{ groups: AggGroup[]; total: number; groupCount: number }> {
    return this.open(at).aggregate(q, conditions);
  }
  async setTags(at: ShardAddress, uuid: string, tags: readonly string[]): Promise<StoredEvent | undefined> {
    return this.open(at).setTags(uuid, tags);
  }
  async drop(at: ShardAddress): Promise<void> {
    const key = `${at.accountId}/${at.shardId}`;
    this.shards.delete(key);
    this.indicatorStores.delete(key);
    this.dbs.dropShard(at.accountId, at.shardId);
  }
  async bookmark(at: ShardAddress): Promise<number> {
    return this.open(at).bookmark();
  }
  async positionAt(at: ShardAddress, ms: number): Promise<number> {
    return this.open(at).positionAt(ms);
  }
  async oldestJournaled(at: ShardAddress): Promise<number | undefined> {
    return this.open(at).oldestJournaled();
  }
  async revertTo(at: ShardAddress, position: number): Promise<number> {
    return this.open(at).revertTo(position);
  }
  async pruneJournal(at: ShardAddress, beforeMs: number): Promise<number> {
    return this.open(at).pruneJournal(beforeMs);
  }

  async clearGhosts(at: ShardAddress, limit: number): Promise<number> {
    return this.open(at).clearGhosts(limit);
  }
  async compactPostings(at: ShardAddress, share: number): Promise<number> {
    return this.open(at).compactPostings(share);
  }
  async removeMany(at: ShardAddress, uuids: readonly string[]): Promise<NewEvent[]> {
    return this.open(at).removeMany(uuids);
  }
  async matchingUuids(at: ShardAddress, conditions: readonly Condition[], limit: number): Promise<string[]> {
    return this.open(at).matchingUuids(conditions, limit);
  }
  async setHasChildren(at: ShardAddress, uuid: string, hasChildren: boolean): Promise<void> {
    this.open(at).setHasChildren(uuid, hasChildren);
  }
  async distinct(
    at: ShardAddress,
    column: 'attacker' | 'target_industry' | 'category' | 'indicator_type',
  ): Promise<string[]> {
    return this.open(at).distinct(column);
  }
  async listIndicators(
    at: ShardAddress,
    filter: IndicatorFilter,
    page: IndicatorPage,
  ): Promise<IndicatorRecord[]> {
    return this.indicators(at).list(filter, page);
  }
  async countIndicators(at: ShardAddress, filter: IndicatorFilter, primaryOnly = false): Promise<number> {
    return this.indicators(at).count(filter, primaryOnly);
  }
  async indicatorUuids(at: ShardAddress, filter: IndicatorFilter): Promise<string[]> {
    return this.indicators(at).uuids(filter);
  }
  async indicatorByUuid(at: ShardAddress, uuid: string): Promise<IndicatorRecord | undefined> {
    return this.indicators(at).byUuid(uuid);
  }
  async indicatorDetails(
    at: ShardAddress,
    ids: readonly number[],
    limit: number,
    withTags: boolean,
  ): Promise<Map<number, { events: { uuid: string; dateMs: number }[]; tags: string[] }>> {
    const store = this.indicators(at);
    const out = new Map<number, { events: { uuid: string; dateMs: number }[]; tags: string[] }>();
    for (const id of ids) {
      out.set(id, {
        events: limit === 0 ? [] : store.events(id, limit),
        tags: withTags ? store.tags(id) : [],
      });
    }
    return out;
  }
  async indicatorTypes(at: ShardAddress): Promise<string[]> {
    return this.indicators(at).types();
  }
  async tagNames(at: ShardAddress): Promise<string[]> {
    return this.indicators(at).tagNames();
  }
  async aggregateIndicators(
    at: ShardAddress,
    by: readonly ('indicatorType' | 'value')[],
    measure: 'indicators' | 'relationships',
    filter: Parameters<ShardIndicators['aggregate']>[2],
  ): Promise<{ key: string[]; count: number }[]> {
    return this.indicators(at).aggregate(by, measure, filter);
  }
}
