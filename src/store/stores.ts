import type { Clock } from '../domain/clock.ts';
import { Catalog } from './catalog/catalog.ts';
import { LocalShardClient, type ShardClient } from './shard/client.ts';
import type { DatabaseFactory } from './sql.ts';
import { SystemStore } from './system/system-store.ts';

/** The storage the domain works with: system tokens, per-account catalogs, and shards. */
export interface Stores {
  system: SystemStore;
  catalog(accountId: string): Catalog;
  shards: ShardClient;
}

/** Stores backed by one database factory, with shards in this process. */
export function createStores(dbs: DatabaseFactory, clock: Clock): Stores & { shards: LocalShardClient } {
  const system = new SystemStore(dbs.system());
  const catalogs = new Map<string, Catalog>();
  return {
    system,
    catalog(accountId: string): Catalog {
      let catalog = catalogs.get(accountId);
      if (!catalog) {
        catalog = new Catalog(dbs.account(accountId));
        catalogs.set(accountId, catalog);
      }
      return catalog;
    },
    shards: new LocalShardClient(dbs, clock),
  };
}
