import type { DatasetRecord } from '../../store/catalog/catalog.ts';
import type { Ctx } from '../context.ts';
import { resolveDatasets } from '../datasets/datasets.ts';
import { ApiError, invalidInput } from '../errors.ts';
import { addr, locateEvent, toEventViews } from '../events/events.ts';
import type { StoredEvent } from '../events/model.ts';
import { indicatorUuid } from '../indicators/normalize.ts';

export const EDGE_TYPES = ['tagged_with', 'appears_in', 'related_to', 'caused_by', 'attributed_to'] as const;
export type EdgeType = (typeof EDGE_TYPES)[number];
type NodeType = 'event' | 'indicator' | 'tag';

export interface GraphEdge {
  id: string;
  relationshipType: EdgeType;
  source: string;
  sourceId: string;
  sourceType: NodeType;
  target: string;
  targetId: string;
  targetType: NodeType;
}

export interface GraphInput {
  seeds?: string[] | undefined;
  cursor?: string | undefined;
  datasetIds?: string[] | undefined;
  direction?: string | undefined;
  expand?: string[] | undefined;
  limit?: number | undefined;
  maxNodes?: number | undefined;
  relationshipTypes?: string[] | undefined;
}

interface Seed {
  type: NodeType;
  id: string;
}

const MAX_SEEDS = 50;
const MAX_LIMIT = 1000;

function parseSeed(text: string, i: number): Seed {
  const colon = text.indexOf(':');
  const type = text.slice(0, colon);
  const id = text.slice(colon + 1);
  if (colon < 1 || !id || (type !== 'event' && type !== 'indicator' && type !== 'tag')) {
    throw invalidInput(
      `seeds[${i}]: expected event:<uuid>, indicator:<uuid> or tag:<uuid>, got ${JSON.stringify(text)}`,
    );
  }
  return { type, id };
}

function edge(type: EdgeType, source: Seed, target: Seed): GraphEdge {
  const s = `${source.type}:${source.id}`;
  const t = `${target.type}:${target.id}`;
  return {
    id: `${s}→${t}:${type}`,
    relationshipType: type,
    source: s,
    sourceId: source.id,
    sourceType: source.type,
    target: t,
    targetId: target.id,
    targetType: target.type,
  };
}

/** Every edge touching one seed, in a stable order, within the datasets asked for. */
async function neighbourhood(
  ctx: Ctx,
  seed: Seed,
  datasets: readonly DatasetRecord[],
  direction: 'in' | 'out' | 'both',
  fetchLimit: number,
): Promise<{ edges: GraphEdge[]; events: Map<string, { event: StoredEvent; datasetId: string }> }> {
  const catalog = ctx.stores.catalog(ctx.accountId);
  const links = ctx.stores.links(ctx.accountId);
  const inScope = new Set(datasets.map((d) => d.uuid));
  const out: GraphEdge[] = [];
  const events = new Map<string, { event: StoredEvent; datasetId: string }>();
  const wantOut = direction !== 'in';
  const wantIn = direction !== 'out';

  if (seed.type === 'event') {
    const found = await locateEvent(ctx, seed.id, datasets);
    if (!found) return { edges: out, events };
    events.set(found.event.uuid, { event: found.event, datasetId: found.dataset.uuid });
    const e = found.event;
    if (wantOut) {
      const tagRecords = catalog.tags.tagsByValue([...e.tags, ...(e.attacker ? [e.attacker] : [])]);
      for (const name of e.tags) {
        const t = tagRecords.get(name);
        if (t) out.push(edge('tagged_with', seed, { type: 'tag', id: t.uuid }));
      }
      const actor = e.attacker ? tagRecords.get(e.attacker) : undefined;
      if (actor) out.push(edge('attributed_to', seed, { type: 'tag', id: actor.uuid }));
      for (const r of links.childrenOf(e.uuid)) {
        if (inScope.has(r.child.datasetId)) {
          out.push(
            edge(r.type === 'caused_by' ? 'caused_by' : 'related_to', seed, {
              type: 'event',
              id: r.child.uuid,
            }),
          );
        }
      }
      const refs = links.referencesOf([e.uuid]).get(e.uuid);
      for (const to of refs?.references ?? []) out.push(edge('related_to', seed, { type: 'event', id: to }));
    }
    if (wantIn) {
      for (const i of e.indicators) {
        out.push(
          edge(
            'appears_in',
            { type: 'indicator', id: indicatorUuid(found.dataset.uuid, i.type, i.value) },
            seed,
          ),
        );
      }
      for (const r of links.parentsOf(e.uuid)) {
        if (inScope.has(r.parent.datasetId)) {
          out.push(
            edge(
              r.type === 'caused_by' ? 'caused_by' : 'related_to',
              { type: 'event', id: r.parent.uuid },
              seed,
            ),
          );
        }
      }
      const refs = links.referencesOf([e.uuid]).get(e.uuid);
      for (const from of refs?.referenced ?? [])
        out.push(edge('related_to', { type: 'event', id: from }, seed));
    }
  } else if (seed.type === 'indicator') {
    if (!wantOut) return { edges: out, events };
    for (const d of datasets) {
      for (const shard of catalog.shardsOf(d.uuid)) {
        const rec = await ctx.stores.shards.indicatorByUuid(addr(ctx, shard.id), seed.id);
        if (!rec) continue;
        const details = await ctx.stores.shards.indicatorDetails(
          addr(ctx, shard.id),
          [rec.id],
          fetchLimit,
          false,
        );
        for (const ev of details.get(rec.id)?.events ?? []) {
          out.push(edge('appears_in', seed, { type: 'event', id: ev.uuid }));
        }
      }
    }
  } else {
    const tag = catalog.tags.getTag(seed.id);
    if (!tag || !wantIn) return { edges: out, events };
    for (const d of datasets) {
      for (const shard of catalog.shardsOf(d.uuid)) {
        const at = addr(ctx, shard.id);
        const tagged = await ctx.stores.shards.search(at, {
          conditions: [{ kind: 'array', field: 'tags', op: 'equals', value: tag.value }],
          orderBy: 'date',
          order: 'desc',
          limit: fetchLimit,
        });
        for (const ev of tagged) {
          events.set(ev.uuid, { event: ev, datasetId: d.uuid });
          out.push(edge('tagged_with', { type: 'event', id: ev.uuid }, seed));
        }
        const attributed = await ctx.stores.shards.search(at, {
          conditions: [{ kind: 'string', field: 'attacker', op: 'equals', value: tag.value }],
          orderBy: 'date',
          order: 'desc',
          limit: fetchLimit,
        });
        for (const ev of attributed) {
          events.set(ev.uuid, { event: ev, datasetId: d.uuid });
          out.push(edge('attributed_to', { type: 'event', id: ev.uuid }, seed));
        }
      }
    }
  }
  return { edges: out, events };
}

function encodeCursor(seed: string, offset: number): string {
  return btoa(JSON.stringify({ v: 1, e: 'graph', s: seed, o: offset })).replace(/=+$/, '');
}

function decodeCursor(cursor: string): { s: string; o: number } {
  try {
    const state = JSON.parse(atob(cursor)) as { v?: number; e?: string; s?: string; o?: number };
    if (state.v === 1 && state.e === 'graph' && typeof state.s === 'string' && typeof state.o === 'number') {
      return { s: state.s, o: state.o };
    }
  } catch {
    // fall through
  }
  throw new ApiError('invalidCursor', 'cursor: not a graph cursor this server issued');
}

/**
 * E15: the one-step neighbourhood of up to 50 seeds (events, indicators, tags), merged and
 * de-duplicated. Edge ids are deterministic (`source→target:type`).
 */
export async function expandGraph(ctx: Ctx, input: GraphInput) {
  const seedsText = input.seeds ?? [];
  if (seedsText.length === 0) throw invalidInput('seeds: give 1 to 50 seeds such as event:<uuid>');
  if (seedsText.length > MAX_SEEDS)
    throw invalidInput(`seeds: at most ${MAX_SEEDS}, got ${seedsText.length}`);
  const seeds = seedsText.map(parseSeed);
  if (input.cursor !== undefined && seeds.length !== 1)
    throw invalidInput('cursor: only valid with exactly one seed');
  const limit = input.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw invalidInput(`limit: an integer from 1 to ${MAX_LIMIT}`);
  const maxNodes = input.maxNodes ?? 500;
  if (!Number.isInteger(maxNodes) || maxNodes < 1 || maxNodes > MAX_LIMIT) {
    throw invalidInput(`max_nodes: an integer from 1 to ${MAX_LIMIT}`);
  }
  const direction = input.direction ?? 'both';
  if (direction !== 'in' && direction !== 'out' && direction !== 'both')
    throw invalidInput('direction: in, out or both');
  for (const e of input.expand ?? [])
    if (e !== 'nodes') throw invalidInput(`expand: only "nodes" is allowed, got ${JSON.stringify(e)}`);
  const types = input.relationshipTypes?.length ? new Set(input.relationshipTypes) : undefined;
  for (const t of types ?? []) {
    if (!(EDGE_TYPES as readonly string[]).includes(t)) {
      throw invalidInput(
        `relationshipTypes: unknown type ${JSON.stringify(t)}; expected ${EDGE_TYPES.join(', ')}`,
      );
    }
  }
  let offset = 0;
  if (input.cursor !== undefined) {
    const state = decodeCursor(input.cursor);
    if (state.s !== seedsText[0]) throw new ApiError('invalidCursor', 'cursor: issued for another seed');
    offset = state.o;
  }
  const datasets = resolveDatasets(ctx, input.datasetIds?.length ? input.datasetIds : ['all'], 'datasetIds');

  const edges = new Map<string, GraphEdge>();
  const known = new Map<string, { event: StoredEvent; datasetId: string }>();
  const nodeIds: string[] = [];
  const addNode = (id: string) => {
    if (!nodeIds.includes(id) && nodeIds.length < maxNodes) nodeIds.push(id);
    return nodeIds.includes(id);
  };
  for (const s of seeds) addNode(`${s.type}:${s.id}`);
  let nextCursor: string | null = null;
  for (const seed of seeds) {
    const hood = await neighbourhood(ctx, seed, datasets, direction, offset + limit + 1);
    for (const [k, v] of hood.events) known.set(k, v);
    const filtered = hood.edges.filter((e) => !types || types.has(e.relationshipType));
    const page = filtered.slice(offset, offset + limit);
    if (seeds.length === 1 && filtered.length > offset + limit)
      nextCursor = encodeCursor(seedsText[0] as string, offset + limit);
    for (const e of page) {
      const other = e.source === `${seed.type}:${seed.id}` ? e.target : e.source;
      if (addNode(other)) edges.set(e.id, e);
    }
  }

  const expand = (input.expand ?? []).includes('nodes');
  const nodes = await hydrate(ctx, nodeIds, expand, datasets, known);
  const focal = seeds.length === 1 ? (nodes[0] ?? null) : null;
  return { edges: [...edges.values()], node: focal, nodes, ...(nextCursor ? { cursor: nextCursor } : {}) };
}

/** Nodes as identifiers, or with their fields when `expand=nodes`. */
async function hydrate(
  ctx: Ctx,
  ids: readonly string[],
  expand: boolean,
  datasets: readonly DatasetRecord[],
  known: Map<string, { event: StoredEvent; datasetId: string }>,
): Promise<Record<string, unknown>[]> {
  const catalog = ctx.stores.catalog(ctx.accountId);
  const out: Record<string, unknown>[] = [];
  for (const id of ids) {
    const colon = id.indexOf(':');
    const type = id.slice(0, colon);
    const uuid = id.slice(colon + 1);
    const node: Record<string, unknown> = { id, type, uuid };
    if (expand) {
      if (type === 'event') {
        const hit =
          known.get(uuid) ??
          (await locateEvent(ctx, uuid, datasets).then((f) =>
            f ? { event: f.event, datasetId: f.dataset.uuid } : undefined,
          ));
        if (hit) Object.assign(node, toEventViews(ctx, [hit])[0], { id, type });
      } else if (type === 'tag') {
        const t = catalog.tags.getTag(uuid);
        if (t)
          Object.assign(node, {
            value: t.value,
            categoryId: t.categoryUuid,
            categoryName: t.categoryName ?? null,
          });
      } else {
        for (const d of datasets) {
          for (const shard of catalog.shardsOf(d.uuid)) {
            const rec = await ctx.stores.shards.indicatorByUuid(addr(ctx, shard.id), uuid);
            if (rec && node.value === undefined) {
              Object.assign(node, {
                value: rec.value,
                indicatorType: rec.type,
                datasetId: d.uuid,
                createdAt: new Date(rec.createdMs).toISOString(),
              });
            }
          }
        }
      }
    }
    out.push(node);
  }
  return out;
}
