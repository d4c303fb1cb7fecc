import type { Clock } from '../domain/clock.ts';
import { Catalog } from './catalog/catalog.ts';
import { Links } from './catalog/links.ts';
import { QueryStore } from './catalog/queries.ts';
import { LocalShardClient, type ShardClient } from './shard/client.ts';
import type { DatabaseFactory } from './sql.ts';
import { SystemStore } from './system/system-store.ts';

/** The storage the domain works with: system tokens, per-account catalogs, and shards. */
export interface Stores {
  system: SystemStore;
  catalog(accountId: string): Catalog;
  /** References and relationships between the account's events. */
  links(accountId: string): Links;
  /** Saved event queries, their alerts and the alerts' outbox. */
  queries(accountId: string): QueryStore;
  shards: ShardClient;
}

/** Stores backed by one database factory, with shards in this process. */
export function createStores(
  dbs: DatabaseFactory,
  clock: Clock,
  /**
   * `shards`: another transport for shards (the Node server's storage thread); in-process by
   * default. `postingBlock`: events per sealed block of postings (tests use small blocks).
   */
  options: { journal?: boolean; shards?: ShardClient; postingBlock?: number } = {},
): Stores {
  const system = new SystemStore(dbs.system());
  const catalogs = new Map<string, Catalog>();
  const links = new Map<string, Links>();
  const queries = new Map<string, QueryStore>();
  const catalog = (accountId: string): Catalog => {
    let found = catalogs.get(accountId);
    if (!found) {
      found = new Catalog(dbs.account(accountId));
      catalogs.set(accountId, found);
    }
    return found;
  };
  return {
    system,
    catalog,
    links(accountId: string): Links {
      let found = links.get(accountId);
      if (!found) {
        catalog(accountId); // runs the account migrations first
        found = new Links(dbs.account(accountId));
        links.set(accountId, found);
      }
      return found;
    },
    queries(accountId: string): QueryStore {
      let found = queries.get(accountId);
      if (!found) {
        catalog(accountId); // runs the account migrations first
        found = new QueryStore(dbs.account(accountId));
        queries.set(accountId, found);
      }
      return found;
    },
    shards: options.shards ?? new LocalShardClient(dbs, clock, options.journal ?? true, options.postingBlock),
  };
}
