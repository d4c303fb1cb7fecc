import type { Stores } from '../../store/stores.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../context.ts';
import { withDatasetLock } from '../events/events.ts';

const DAY = 86_400_000;

/** A sealed posting block is rebuilt once this share of its events was edited or deleted since. */
const COMPACT_SHARE = 0.05;

/** What one maintenance pass did. */
export interface MaintenanceSummary {
  shards: number;
  journalEntriesPruned: number;
  ghostsCleared: number;
  /** Sealed posting blocks rebuilt because edits and deletes had overlaid many of their events. */
  blocksRebuilt: number;
}

/**
 * One pass of shard housekeeping over every account: forgets journal entries older than the
 * revert window (they can no longer be reverted to), deletes the full-text entries that
 * removed events left behind, `ghostsPerShard` at a time so a pass never blocks for long, and
 * rebuilds the posting blocks that many edits and deletes have overlaid.
 * Each dataset is handled under its write lock, so a revert never sees it half done.
 */
export async function maintainShards(
  deps: { stores: Stores; clock: Clock; config: Config },
  options: { signal?: AbortSignal; ghostsPerShard?: number } = {},
): Promise<MaintenanceSummary> {
  const summary: MaintenanceSummary = {
    shards: 0,
    journalEntriesPruned: 0,
    ghostsCleared: 0,
    blocksRebuilt: 0,
  };
  const accounts = deps.stores.system.accountIds();
  const horizon = deps.clock.now() - deps.config.revertWindowDays * DAY;
  for (const accountId of accounts) {
    const catalog = deps.stores.catalog(accountId);
    for (const dataset of catalog.listDatasets(true)) {
      if (options.signal?.aborted) return summary;
      await withDatasetLock(`${accountId}/${dataset.uuid}`, async () => {
        for (const shard of catalog.shardsOf(dataset.uuid)) {
          const at = { accountId, shardId: shard.id };
          summary.shards++;
          summary.journalEntriesPruned += await deps.stores.shards.pruneJournal(at, horizon);
          summary.ghostsCleared += await deps.stores.shards.clearGhosts(at, options.ghostsPerShard ?? 5_000);
          summary.blocksRebuilt += await deps.stores.shards.compactPostings(at, COMPACT_SHARE);
        }
      });
    }
  }
  return summary;
}
