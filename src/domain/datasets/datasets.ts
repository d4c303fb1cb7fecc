import type { DatasetRecord, ShardRecord } from '../../store/catalog/catalog.ts';
import { type Ctx, requireWrite } from '../context.ts';
import { conflict, invalidInput, notFound } from '../errors.ts';

export const DEFAULT_DATASET_NAME = 'Cloudforce One Threat Events';
const SCOPES = ['all', '*', 'analytics', 'operational'] as const;
const OPERATIONAL_LIMIT = 50;

/** The dataset as the API shows it. */
export interface DatasetView {
  uuid: string;
  name: string;
  isPublic: boolean;
  isAnalytics: boolean;
  indicatorWriteMode: string;
  deletedAt?: string | null;
}

export function toDatasetView(d: DatasetRecord, withDeletedAt = false): DatasetView {
  const view: DatasetView = {
    uuid: d.uuid,
    name: d.name,
    isPublic: d.isPublic,
    isAnalytics: d.isAnalytics,
    indicatorWriteMode: d.indicatorWriteMode,
  };
  if (withDeletedAt) view.deletedAt = d.deletedAt === null ? null : new Date(d.deletedAt).toISOString();
  return view;
}

/** The account's default dataset, created on first use. */
export function defaultDataset(ctx: Ctx): DatasetRecord {
  const catalog = ctx.stores.catalog(ctx.accountId);
  const existing = catalog.defaultDataset();
  if (existing) return existing;
  return catalog.transaction(() => {
    const again = catalog.defaultDataset();
    if (again) return again;
    const now = ctx.clock.now();
    const d: DatasetRecord = {
      uuid: ctx.ids.uuid(),
      name: catalog.datasetByName(DEFAULT_DATASET_NAME)
        ? `${DEFAULT_DATASET_NAME} (default)`
        : DEFAULT_DATASET_NAME,
      isPublic: false,
      isAnalytics: false,
      isDefault: true,
      indicatorWriteMode: 'full',
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    };
    catalog.insertDataset(d);
    return d;
  });
}

/** A live dataset of the account, or 404. */
export function getLiveDataset(ctx: Ctx, datasetId: string): DatasetRecord {
  if (datasetId === '') throw invalidInput('datasetId: must not be empty');
  const d = ctx.stores.catalog(ctx.accountId).getDataset(datasetId);
  if (!d || d.deletedAt !== null) throw notFound('dataset', datasetId);
  return d;
}

/** E38 */
export function listDatasets(ctx: Ctx, input: { includeDeleted: boolean }): DatasetView[] {
  defaultDataset(ctx);
  return ctx.stores
    .catalog(ctx.accountId)
    .listDatasets(input.includeDeleted)
    .map((d) => toDatasetView(d, input.includeDeleted));
}

/** E39 */
export function createDataset(
  ctx: Ctx,
  input: { name: string; isPublic: boolean; isAnalytics?: boolean | undefined },
): DatasetView {
  requireWrite(ctx);
  const catalog = ctx.stores.catalog(ctx.accountId);
  const name = input.name.trim();
  if (!name) throw invalidInput('name: must not be empty');
  defaultDataset(ctx);
  return catalog.transaction(() => {
    if (catalog.datasetByName(name))
      throw conflict(`name: a dataset named ${JSON.stringify(name)} already exists`);
    const now = ctx.clock.now();
    const d: DatasetRecord = {
      uuid: ctx.ids.uuid(),
      name,
      isPublic: input.isPublic,
      isAnalytics: input.isAnalytics ?? false,
      isDefault: false,
      indicatorWriteMode: 'full',
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    };
    catalog.insertDataset(d);
    return toDatasetView(d);
  });
}

/** E40 */
export function getDataset(ctx: Ctx, datasetId: string): DatasetView {
  return toDatasetView(getLiveDataset(ctx, datasetId));
}

/** E41 */
export function editDataset(
  ctx: Ctx,
  datasetId: string,
  input: { name: string; isPublic: boolean },
): DatasetView {
  requireWrite(ctx);
  const catalog = ctx.stores.catalog(ctx.accountId);
  const name = input.name.trim();
  if (!name) throw invalidInput('name: must not be empty');
  return catalog.transaction(() => {
    const d = getLiveDataset(ctx, datasetId);
    const clash = catalog.datasetByName(name);
    if (clash && clash.uuid !== d.uuid)
      throw conflict(`name: a dataset named ${JSON.stringify(name)} already exists`);
    catalog.updateDataset(d.uuid, { name, isPublic: input.isPublic }, ctx.clock.now());
    return toDatasetView({ ...d, name, isPublic: input.isPublic });
  });
}

/** E42: soft delete; the dataset and its events are hidden, not erased. */
export function deleteDataset(ctx: Ctx, datasetId: string): { name: string; uuid: string } {
  requireWrite(ctx);
  const d = getLiveDataset(ctx, datasetId);
  if (d.isDefault)
    throw invalidInput(`datasetId: ${datasetId} is the account's default dataset and cannot be deleted`);
  ctx.stores.catalog(ctx.accountId).softDeleteDataset(d.uuid, ctx.clock.now());
  return { name: d.name, uuid: d.uuid };
}

/**
 * Resolves a `datasetId`/`datasetIds` parameter: absent → the default dataset; one scope value
 * (`all`/`*`, `analytics`, `operational`) alone; otherwise live dataset uuids of this account.
 */
export function resolveDatasets(
  ctx: Ctx,
  ids: readonly string[] | undefined,
  param = 'datasetId',
  options: { allExcludesAnalytics?: boolean } = {},
): DatasetRecord[] {
  if (!ids || ids.length === 0) return [defaultDataset(ctx)];
  const scope = ids.find((id) => (SCOPES as readonly string[]).includes(id));
  if (scope !== undefined) {
    if (ids.length > 1) throw invalidInput(`${param}: the scope value "${scope}" must be used alone`);
    defaultDataset(ctx);
    const live = ctx.stores.catalog(ctx.accountId).listDatasets(false);
    if (scope === 'analytics') return live.filter((d) => d.isAnalytics);
    if (scope === 'operational') return live.filter((d) => !d.isAnalytics).slice(0, OPERATIONAL_LIMIT);
    return options.allExcludesAnalytics ? live.filter((d) => !d.isAnalytics) : live;
  }
  if (ids.length > 100) throw invalidInput(`${param}: at most 100 datasets, got ${ids.length}`);
  const seen = new Set<string>();
  const out: DatasetRecord[] = [];
  for (const id of ids) {
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(getLiveDataset(ctx, id));
  }
  return out;
}

/** The shards of a dataset, oldest first (empty for a dataset never written to). */
export function shardsOf(ctx: Ctx, datasetId: string): ShardRecord[] {
  return ctx.stores.catalog(ctx.accountId).shardsOf(datasetId);
}
