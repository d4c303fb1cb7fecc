import type { Clock } from '../../domain/clock.ts';
import type { EventPatch, NewEvent, RawPayload, StoredEvent } from '../../domain/events/model.ts';
import type { Condition } from '../../domain/events/search.ts';
import type { DatabaseFactory } from '../sql.ts';
import { type RowKey, Shard, type ShardQuery } from './shard.ts';

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
  setHasChildren(at: ShardAddress, uuid: string, hasChildren: boolean): Promise<void>;
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
  ) {}

  /** The shard object itself, for in-process callers such as benchmarks and maintenance. */
  open(at: ShardAddress): Shard {
    const key = `${at.accountId}/${at.shardId}`;
    let shard = this.shards.get(key);
    if (!shard) {
      shard = new Shard(this.dbs.shard(at.accountId, at.shardId), this.clock);
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
  async setTags(at: ShardAddress, uuid: string, tags: readonly string[]): Promise<StoredEvent | undefined> {
    return this.open(at).setTags(uuid, tags);
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
}
