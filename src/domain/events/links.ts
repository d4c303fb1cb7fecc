import type { EventRef, RelationshipRecord } from '../../store/catalog/links.ts';
import { type Ctx, requireWrite } from '../context.ts';
import { getLiveDataset } from '../datasets/datasets.ts';
import { invalidInput, notFound } from '../errors.ts';
import { addr, bulkCreateEvents, locateEvent, type ThreatEventView, toEventViews } from './events.ts';
import type { StoredEvent } from './model.ts';

const MAX_LINK_IDS = 1000;

async function mustFind(ctx: Ctx, uuid: string, datasetId?: string) {
  const found = await locateEvent(ctx, uuid, datasetId ? [getLiveDataset(ctx, datasetId)] : undefined);
  if (!found) throw notFound('event', datasetId ? `${uuid} in dataset ${datasetId}` : uuid);
  return found;
}

function checkIds(ids: readonly string[], field: string): void {
  if (ids.length > MAX_LINK_IDS)
    throw invalidInput(`${field}: at most ${MAX_LINK_IDS} ids, got ${ids.length}`);
}

/** E22: the event references the given events (any dataset of the account). */
export async function relateEvents(
  ctx: Ctx,
  eventId: string,
  eventIds: readonly string[],
): Promise<{ success: true }> {
  requireWrite(ctx);
  checkIds(eventIds, 'eventIds');
  if (eventIds.length === 0) throw invalidInput('eventIds: give at least one event uuid to reference');
  const from = await mustFind(ctx, eventId);
  const targets: EventRef[] = [];
  const issues: string[] = [];
  for (const [i, id] of eventIds.entries()) {
    if (id === eventId) {
      issues.push(`eventIds[${i}]: an event cannot reference itself`);
      continue;
    }
    const to = await locateEvent(ctx, id);
    if (!to) issues.push(`eventIds[${i}]: event not found: ${id}`);
    else targets.push({ uuid: id, datasetId: to.dataset.uuid });
  }
  if (issues.length > 0) throw invalidInput(issues);
  ctx.stores
    .links(ctx.accountId)
    .addReferences({ uuid: eventId, datasetId: from.dataset.uuid }, targets, ctx.clock.now());
  return { success: true };
}

/** E23: removes the named references of an event, or all of them when none are named. */
export async function unrelateEvents(
  ctx: Ctx,
  eventId: string,
  eventIds?: readonly string[],
): Promise<{ success: true }> {
  requireWrite(ctx);
  if (eventIds) checkIds(eventIds, 'eventIds');
  await mustFind(ctx, eventId);
  ctx.stores
    .links(ctx.accountId)
    .removeReferences(eventId, eventIds && eventIds.length > 0 ? eventIds : undefined);
  return { success: true };
}

function uniqueTags(tags: readonly string[]): string[] {
  const out: string[] = [];
  for (const t of tags.map((x) => x.trim())) if (t && !out.includes(t)) out.push(t);
  return out;
}

/** E24: adds tags to an event; tags the account does not have yet are created. */
export async function addEventTags(
  ctx: Ctx,
  eventId: string,
  tags: readonly string[],
): Promise<{ success: true }> {
  requireWrite(ctx);
  const wanted = uniqueTags(tags);
  if (wanted.length === 0) throw invalidInput('tags: give at least one tag');
  if (wanted.length > 100) throw invalidInput(`tags: at most 100 tags, got ${wanted.length}`);
  const found = await mustFind(ctx, eventId);
  const next = uniqueTags([...found.event.tags, ...wanted]);
  if (next.length > 100)
    throw invalidInput(`tags: an event carries at most 100 tags (would have ${next.length})`);
  ctx.stores.catalog(ctx.accountId).ensureTags(wanted, () => ctx.ids.uuid(), ctx.clock.now());
  await ctx.stores.shards.setTags(addr(ctx, found.shardId), eventId, next);
  return { success: true };
}

/** E25: removes the named tags from an event, or all of its tags when none are named. */
export async function removeEventTags(
  ctx: Ctx,
  eventId: string,
  tags?: readonly string[],
): Promise<{ success: true }> {
  requireWrite(ctx);
  const found = await mustFind(ctx, eventId);
  const drop = tags && tags.length > 0 ? new Set(uniqueTags(tags)) : undefined;
  const next = drop ? found.event.tags.filter((t) => !drop.has(t)) : [];
  await ctx.stores.shards.setTags(addr(ctx, found.shardId), eventId, next);
  return { success: true };
}

export interface RelationshipsInput {
  parentId: string;
  parentDatasetId?: string | undefined;
  childIds: readonly string[];
  childDatasetId?: string | undefined;
  relationshipType?: string | undefined;
}

export interface RelationshipsResult {
  childIds: string[];
  errors: { childId: string; error: string; errorType: string }[];
  message: string;
  relationships: {
    childDatasetId: string;
    childId: string;
    parentDatasetId: string;
    parentId: string;
    relationshipType: string;
  }[];
  relationshipsCreated: number;
  success: boolean;
}

/** Whether `target` is reachable from `start` following parent→child edges. */
function reaches(ctx: Ctx, start: string, target: string): boolean {
  const links = ctx.stores.links(ctx.accountId);
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length > 0) {
    const at = queue.shift() as string;
    if (at === target) return true;
    for (const r of links.childrenOf(at)) {
      if (!seen.has(r.child.uuid)) {
        seen.add(r.child.uuid);
        queue.push(r.child.uuid);
      }
    }
  }
  return false;
}

/** E21: parent→child relationships of one type; each child succeeds or fails on its own. */
export async function createRelationships(ctx: Ctx, input: RelationshipsInput): Promise<RelationshipsResult> {
  requireWrite(ctx);
  checkIds(input.childIds, 'childIds');
  if (input.childIds.length === 0) throw invalidInput('childIds: give at least one child event uuid');
  const type = (input.relationshipType ?? 'related_to').trim();
  if (!type || type.length > 64) throw invalidInput('relationshipType: 1 to 64 characters');
  const parent = await mustFind(ctx, input.parentId, input.parentDatasetId);
  if (input.childDatasetId) getLiveDataset(ctx, input.childDatasetId);
  const links = ctx.stores.links(ctx.accountId);
  const result: RelationshipsResult = {
    childIds: [],
    errors: [],
    message: '',
    relationships: [],
    relationshipsCreated: 0,
    success: true,
  };
  const now = ctx.clock.now();
  for (const childId of input.childIds) {
    const fail = (errorType: string, error: string) => result.errors.push({ childId, error, errorType });
    if (childId === input.parentId) {
      fail('self_relationship', 'an event cannot be its own child');
      continue;
    }
    const child = await locateEvent(
      ctx,
      childId,
      input.childDatasetId ? [getLiveDataset(ctx, input.childDatasetId)] : undefined,
    );
    if (!child) {
      fail('not_found', `child event not found: ${childId}`);
      continue;
    }
    if (reaches(ctx, childId, input.parentId)) {
      fail(
        'cycle',
        `${childId} is already an ancestor of ${input.parentId}; the relationship would make a cycle`,
      );
      continue;
    }
    const rel: RelationshipRecord = {
      parent: { uuid: input.parentId, datasetId: parent.dataset.uuid },
      child: { uuid: childId, datasetId: child.dataset.uuid },
      type,
      createdAt: now,
    };
    if (!links.addRelationship(rel)) {
      fail('duplicate', `the ${type} relationship ${input.parentId} → ${childId} already exists`);
      continue;
    }
    result.childIds.push(childId);
    result.relationships.push({
      childDatasetId: child.dataset.uuid,
      childId,
      parentDatasetId: parent.dataset.uuid,
      parentId: input.parentId,
      relationshipType: type,
    });
  }
  result.relationshipsCreated = result.relationships.length;
  if (result.relationshipsCreated > 0)
    await ctx.stores.shards.setHasChildren(addr(ctx, parent.shardId), input.parentId, true);
  result.success = result.errors.length === 0;
  result.message = `${result.relationshipsCreated} relationship(s) created, ${result.errors.length} failed`;
  return result;
}

export interface RelatedInput {
  datasetId: string;
  direction?: 'ancestors' | 'descendants' | 'both' | undefined;
  includeParent?: boolean | undefined;
  indicatorTypeIds?: readonly string[] | undefined;
  maxDepth?: number | undefined;
  page?: number | undefined;
  pageSize?: number | undefined;
  relationshipTypes?: readonly string[] | undefined;
}

/**
 * E20: events related to one event, breadth first up to maxDepth (cycles never loop), nearest
 * first. Paging applies to the ordered list.
 */
export async function relatedEvents(
  ctx: Ctx,
  eventId: string,
  input: RelatedInput,
): Promise<{
  events: ThreatEventView[];
  resultInfo: { page: number; per_page: number; count: number; total_count: number };
}> {
  const start = await mustFind(ctx, eventId, input.datasetId);
  const maxDepth = input.maxDepth ?? 5;
  if (!Number.isInteger(maxDepth) || maxDepth < 0 || maxDepth > 20)
    throw invalidInput('maxDepth: an integer from 0 to 20');
  const page = input.page ?? 1;
  const pageSize = input.pageSize ?? 100;
  if (page < 1) throw invalidInput('page: must be at least 1');
  if (pageSize < 1 || pageSize > 1000) throw invalidInput('pageSize: an integer from 1 to 1000');
  const direction = input.direction ?? 'both';
  const types =
    input.relationshipTypes && input.relationshipTypes.length > 0
      ? new Set(input.relationshipTypes)
      : undefined;
  const links = ctx.stores.links(ctx.accountId);

  const order: EventRef[] = [];
  const seen = new Set<string>([eventId]);
  let frontier: string[] = [eventId];
  for (let depth = 1; depth <= maxDepth && frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const at of frontier) {
      const edges: EventRef[] = [];
      if (direction !== 'ancestors') {
        for (const r of links.childrenOf(at)) if (!types || types.has(r.type)) edges.push(r.child);
      }
      if (direction !== 'descendants') {
        for (const r of links.parentsOf(at)) if (!types || types.has(r.type)) edges.push(r.parent);
      }
      for (const e of edges) {
        if (seen.has(e.uuid)) continue;
        seen.add(e.uuid);
        order.push(e);
        next.push(e.uuid);
      }
    }
    frontier = next;
  }

  const found: { event: StoredEvent; datasetId: string }[] = [];
  if (input.includeParent ?? true) found.push({ event: start.event, datasetId: start.dataset.uuid });
  const catalog = ctx.stores.catalog(ctx.accountId);
  for (const ref of order) {
    for (const shard of catalog.shardsOf(ref.datasetId)) {
      const event = await ctx.stores.shards.get(addr(ctx, shard.id), ref.uuid);
      if (event) {
        found.push({ event, datasetId: ref.datasetId });
        break;
      }
    }
  }
  const typeIds =
    input.indicatorTypeIds && input.indicatorTypeIds.length > 0
      ? new Set(input.indicatorTypeIds.map(String))
      : undefined;
  const filtered = typeIds
    ? found.filter((f) => typeIds.has(String(catalog.indicatorTypeId(f.event.indicatorType))))
    : found;
  const slice = filtered.slice((page - 1) * pageSize, page * pageSize);
  return {
    events: toEventViews(ctx, slice),
    resultInfo: { page, per_page: pageSize, count: slice.length, total_count: filtered.length },
  };
}

/**
 * E04 (deprecated): bulk create where an item may name its parent among the items of the same
 * request (`parentIndex`, optional `relationshipType`, default related_to).
 */
export async function bulkCreateWithRelationships(
  ctx: Ctx,
  input: { datasetId: string; data: readonly unknown[] },
): Promise<{
  createdEventsCount: number;
  createdIndicatorsCount: number;
  createdRelationshipsCount: number;
  errorCount: number;
  errors?: { error: string; eventIndex: number }[];
}> {
  const created = await bulkCreateEvents(ctx, { ...input, includeCreatedEvents: true });
  const uuidOf = new Map((created.createdEvents ?? []).map((e) => [e.eventIndex, e.uuid]));
  const errors = [...(created.errors ?? [])];
  let relationships = 0;
  for (const [index, item] of input.data.entries()) {
    const child = uuidOf.get(index);
    const parentIndex = (item as { parentIndex?: unknown } | null)?.parentIndex;
    if (child === undefined || parentIndex === undefined) continue;
    const parent = typeof parentIndex === 'number' ? uuidOf.get(parentIndex) : undefined;
    if (parent === undefined) {
      errors.push({
        eventIndex: index,
        error: `data[${index}].parentIndex: no event was created at index ${String(parentIndex)}`,
      });
      continue;
    }
    const type = (item as { relationshipType?: unknown }).relationshipType;
    const result = await createRelationships(ctx, {
      parentId: parent,
      childIds: [child],
      relationshipType: typeof type === 'string' ? type : undefined,
    });
    relationships += result.relationshipsCreated;
    for (const e of result.errors) errors.push({ eventIndex: index, error: `data[${index}]: ${e.error}` });
  }
  const out: Awaited<ReturnType<typeof bulkCreateWithRelationships>> = {
    createdEventsCount: created.createdEventsCount,
    createdIndicatorsCount: created.queuedIndicatorsCount,
    createdRelationshipsCount: relationships,
    errorCount: errors.length,
  };
  if (errors.length) out.errors = errors.sort((a, b) => a.eventIndex - b.eventIndex);
  return out;
}
