import { type Ctx, requireWrite } from '../context.ts';
import { ApiError, invalidInput, notFound } from '../errors.ts';
import { type DatasetView, listDatasets, toDatasetView } from './datasets.ts';

const DAY = 86_400_000;

/** Erases a soft-deleted dataset for good: its shard files, registry and event links. */
async function purge(ctx: Ctx, datasetId: string): Promise<void> {
  const catalog = ctx.stores.catalog(ctx.accountId);
  for (const shard of catalog.shardsOf(datasetId)) {
    await ctx.stores.shards.drop({ accountId: ctx.accountId, shardId: shard.id });
  }
  catalog.forgetDataset(datasetId);
}

/** Purges the account's datasets whose retention window has passed; answers how many. */
export async function purgeExpiredDatasets(ctx: Ctx): Promise<number> {
  const due = ctx.stores
    .catalog(ctx.accountId)
    .datasetsDeletedBefore(ctx.clock.now() - ctx.config.datasetRetentionDays * DAY);
  for (const d of due) await purge(ctx, d.uuid);
  return due.length;
}

function deletedDataset(ctx: Ctx, datasetId: string) {
  const d = ctx.stores.catalog(ctx.accountId).getDataset(datasetId);
  if (!d) throw notFound('dataset', datasetId);
  if (d.deletedAt === null) throw invalidInput(`dataset_id: dataset ${datasetId} is not deleted`);
  return d;
}

/**
 * Restores a soft-deleted dataset with all its events, within the retention window
 * (THREATDESK_DATASET_RETENTION_DAYS, default 30). Its name must still be free.
 */
export async function undeleteDataset(ctx: Ctx, datasetId: string): Promise<DatasetView> {
  requireWrite(ctx);
  await purgeExpiredDatasets(ctx);
  const d = deletedDataset(ctx, datasetId);
  const catalog = ctx.stores.catalog(ctx.accountId);
  if (catalog.datasetByName(d.name)) {
    throw new ApiError(
      'conflict',
      `name: another live dataset is named ${JSON.stringify(d.name)}; rename it first`,
    );
  }
  catalog.undeleteDataset(d.uuid, ctx.clock.now());
  return toDatasetView({ ...d, deletedAt: null });
}

/** Erases a soft-deleted dataset now, without waiting for the retention window. */
export async function purgeDataset(ctx: Ctx, datasetId: string): Promise<{ uuid: string; purged: true }> {
  requireWrite(ctx);
  const d = deletedDataset(ctx, datasetId);
  await purge(ctx, d.uuid);
  return { uuid: d.uuid, purged: true };
}

/** E38, purging first the deleted datasets whose retention window has passed. */
export async function listDatasetsWithRetention(
  ctx: Ctx,
  input: { includeDeleted: boolean },
): Promise<DatasetView[]> {
  await purgeExpiredDatasets(ctx);
  return listDatasets(ctx, input);
}
