import type { DatasetRecord } from '../../store/catalog/catalog.ts';
import { type Ctx, requireWrite } from '../context.ts';
import { getLiveDataset } from '../datasets/datasets.ts';
import { ApiError, invalidInput } from '../errors.ts';
import { addr, storeEvents } from './events.ts';
import type { NewEvent } from './model.ts';
import { type RawCondition, validateConditions } from './search.ts';

const MAX_IDS = 10_000;
const MAX_DELETE_BY_SEARCH = 1_000_000;

/** Where each event of a dataset lives; unknown ids are listed by their index. */
async function placeEvents(
  ctx: Ctx,
  dataset: DatasetRecord,
  eventIds: readonly string[],
): Promise<{ byShard: Map<string, string[]>; missing: string[] }> {
  const shards = ctx.stores.catalog(ctx.accountId).shardsOf(dataset.uuid);
  const byShard = new Map<string, string[]>();
  const missing: string[] = [];
  const seen = new Set<string>();
  for (const [i, uuid] of eventIds.entries()) {
    if (seen.has(uuid)) continue;
    seen.add(uuid);
    let found = false;
    for (const s of shards) {
      if (await ctx.stores.shards.get(addr(ctx, s.id), uuid)) {
        byShard.set(s.id, [...(byShard.get(s.id) ?? []), uuid]);
        found = true;
        break;
      }
    }
    if (!found) missing.push(`eventIds[${i}]: event ${uuid} is not in dataset ${dataset.uuid}`);
  }
  return { byShard, missing };
}

function checkIds(eventIds: readonly string[]): void {
  if (eventIds.length === 0) throw invalidInput('eventIds: give at least one event uuid');
  if (eventIds.length > MAX_IDS)
    throw invalidInput(`eventIds: at most ${MAX_IDS} per request, got ${eventIds.length}`);
}

/**
 * E09: moves events, with their raw payloads, indicator links, tags and relationships, to
 * another dataset. Unknown ids are a 400 and nothing moves. The events are written to the
 * target before they leave the source, so a crash in between leaves a copy, never a loss.
 */
export async function moveEvents(
  ctx: Ctx,
  datasetId: string,
  input: { eventIds: readonly string[]; targetDatasetId: string },
): Promise<number> {
  requireWrite(ctx);
  checkIds(input.eventIds);
  const source = getLiveDataset(ctx, datasetId);
  const target = getLiveDataset(ctx, input.targetDatasetId);
  if (source.uuid === target.uuid)
    throw invalidInput('targetDatasetId: the events are already in that dataset');
  const { byShard, missing } = await placeEvents(ctx, source, input.eventIds);
  if (missing.length > 0) throw invalidInput(missing);
  // A revert of the source can bring back events that were moved out: the target may hold them.
  const already = (await placeEvents(ctx, target, input.eventIds)).byShard;
  const clash = new Set([...already.values()].flat());
  if (clash.size > 0) {
    throw invalidInput(
      input.eventIds.flatMap((uuid, i) =>
        clash.delete(uuid) ? [`eventIds[${i}]: event ${uuid} is already in dataset ${target.uuid}`] : [],
      ),
    );
  }
  const links = ctx.stores.links(ctx.accountId);
  let moved = 0;
  for (const [shardId, uuids] of byShard) {
    const events: NewEvent[] = [];
    for (const uuid of uuids) {
      const e = await ctx.stores.shards.get(addr(ctx, shardId), uuid);
      const raw = await ctx.stores.shards.getRaw(addr(ctx, shardId), uuid);
      if (e && raw)
        events.push({ ...e, indicators: e.indicators.map((i) => ({ type: i.type, value: i.value })), raw });
    }
    await storeEvents(ctx, target, events);
    await ctx.stores.shards.removeMany(addr(ctx, shardId), uuids);
    links.transaction(() => {
      for (const e of events) links.moveEvent(e.uuid, target.uuid);
    });
    moved += events.length;
  }
  return moved;
}

/**
 * E10: deletes events named by uuid, or every event matching `search` (then `confirm: true` is
 * required). References, relationships, indicator links, aggregates and tag counts stay exact.
 */
export async function deleteEvents(
  ctx: Ctx,
  datasetId: string,
  input: {
    eventIds?: readonly string[] | undefined;
    search?: readonly RawCondition[] | undefined;
    confirm?: boolean | undefined;
  },
): Promise<number> {
  requireWrite(ctx);
  const dataset = getLiveDataset(ctx, datasetId);
  let byShard: Map<string, string[]>;
  if (input.eventIds !== undefined) {
    if (input.search !== undefined) throw invalidInput('eventIds, search: give one or the other');
    checkIds(input.eventIds);
    const placed = await placeEvents(ctx, dataset, input.eventIds);
    if (placed.missing.length > 0) throw invalidInput(placed.missing);
    byShard = placed.byShard;
  } else {
    if (input.search === undefined)
      throw invalidInput('eventIds: give the events to delete, or search with confirm: true');
    if (input.confirm !== true) {
      throw new ApiError(
        'invalidInput',
        'confirm: deleting by search removes every matching event; send confirm: true',
      );
    }
    const conditions = validateConditions(input.search);
    byShard = new Map();
    for (const s of ctx.stores.catalog(ctx.accountId).shardsOf(dataset.uuid)) {
      byShard.set(
        s.id,
        await ctx.stores.shards.matchingUuids(addr(ctx, s.id), conditions, MAX_DELETE_BY_SEARCH),
      );
    }
  }
  const links = ctx.stores.links(ctx.accountId);
  let deleted = 0;
  for (const [shardId, uuids] of byShard) {
    if (uuids.length === 0) continue;
    const removed = await ctx.stores.shards.removeMany(addr(ctx, shardId), uuids);
    deleted += removed.length;
    // Parents that lose their last child no longer have children.
    const parents = new Map<string, string>();
    for (const e of removed)
      for (const r of links.parentsOf(e.uuid)) parents.set(r.parent.uuid, r.parent.datasetId);
    links.transaction(() => {
      for (const e of removed) links.forgetEvent(e.uuid);
    });
    for (const [parent, parentDataset] of parents) {
      if (links.hasChildren(parent)) continue;
      for (const s of ctx.stores.catalog(ctx.accountId).shardsOf(parentDataset)) {
        await ctx.stores.shards.setHasChildren(addr(ctx, s.id), parent, false);
      }
    }
  }
  return deleted;
}
