import { COUNTRIES, type Country } from '../../catalog/countries.ts';
import { SECTORS } from '../../catalog/sectors.ts';
import type { Ctx } from '../context.ts';
import { getLiveDataset, resolveDatasets } from '../datasets/datasets.ts';
import { addr } from '../events/events.ts';

type Column = 'attacker' | 'target_industry';

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Distinct non-empty values of a column over every shard of the datasets, sorted. */
async function distinctOver(ctx: Ctx, datasetIds: readonly string[], column: Column): Promise<string[]> {
  const catalog = ctx.stores.catalog(ctx.accountId);
  const shards = datasetIds.flatMap((id) => catalog.shardsOf(id));
  const parts = await Promise.all(shards.map((s) => ctx.stores.shards.distinct(addr(ctx, s.id), column)));
  return [...new Set(parts.flat())].sort(byCodeUnit);
}

/** E43: attackers named in the events of the datasets (default dataset when none are given). */
export async function listAttackers(ctx: Ctx, datasetIds: readonly string[] | undefined): Promise<string[]> {
  const datasets = resolveDatasets(ctx, datasetIds, 'datasetIds');
  return distinctOver(
    ctx,
    datasets.map((d) => d.uuid),
    'attacker',
  );
}

/** E44: every ISO 3166-1 country, by name. */
export function listCountries(): readonly Country[] {
  return COUNTRIES;
}

/** E45: target industries named in the events of the datasets (default dataset when none are given). */
export async function listTargetIndustries(
  ctx: Ctx,
  datasetIds: readonly string[] | undefined,
): Promise<string[]> {
  const datasets = resolveDatasets(ctx, datasetIds, 'datasetIds');
  return distinctOver(
    ctx,
    datasets.map((d) => d.uuid),
    'target_industry',
  );
}

/** E47: target industries named in the events of one dataset. */
export async function listDatasetTargetIndustries(ctx: Ctx, datasetId: string): Promise<string[]> {
  return distinctOver(ctx, [getLiveDataset(ctx, datasetId).uuid], 'target_industry');
}

/** E46: the industry catalog (MISP galaxy sector names). */
export function targetIndustryCatalog(): readonly string[] {
  return SECTORS;
}
