import { findCountry } from '../../catalog/countries.ts';
import type { DatasetRecord } from '../../store/catalog/catalog.ts';
import type { ShardAddress } from '../../store/shard/client.ts';
import { shardIdFor } from '../../store/shard/shard-id.ts';
import { type CategoryHint, eventCategoryLookup } from '../categories/categories.ts';
import { type Ctx, requireWrite } from '../context.ts';
import { defaultDataset, getLiveDataset } from '../datasets/datasets.ts';
import { invalidInput, notFound } from '../errors.ts';
import { eventKey } from '../ids.ts';
import { guessIndicatorType, indicatorUuid, normalizeIndicator } from '../indicators/normalize.ts';
import {
  type EventEdit,
  type EventInput,
  EventInputSchema,
  formatIssues,
  isEventInput,
  type RawEdit,
} from './input.ts';
import type { EventPatch, EventSource, IndicatorRef, NewEvent, RawPayload, StoredEvent } from './model.ts';
import { parseIsoDate } from './search.ts';

/** An event as the API returns it (C0.1). */
export interface ThreatEventView {
  uuid: string;
  datasetId: string;
  date: string;
  createdAt: string;
  updatedAt: string;
  attacker: string;
  attackerCountry: string;
  attackerCountryAlpha3: string;
  category: string;
  event: string;
  hasChildren: boolean;
  indicator: string;
  indicatorType: string;
  indicatorTypeId: number;
  indicators: { indicatorType: string; value: string }[];
  insight?: string;
  killChain: number;
  mitreAttack: string[];
  mitreCapec: string[];
  numReferenced: number;
  numReferences: number;
  rawId: string;
  referenced: string[];
  referencedIds: number[];
  references: string[];
  referencesIds: number[];
  releasabilityId?: string;
  tags: string[];
  targetCountry: string;
  targetCountryAlpha3: string;
  targetIndustry: string;
  tlp: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Renders stored events for the API, with their references looked up in one go. */
export function toEventViews(
  ctx: Ctx,
  items: readonly { event: StoredEvent; datasetId: string }[],
): ThreatEventView[] {
  const refs = ctx.stores.links(ctx.accountId).referencesOf(items.map((i) => i.event.uuid));
  return items.map(({ event, datasetId }) => {
    const view = renderEvent(ctx, event, datasetId);
    const r = refs.get(event.uuid);
    if (r) {
      view.references = r.references;
      view.referencesIds = r.references.map((u) => eventKey(u) ?? 0);
      view.numReferences = r.references.length;
      view.referenced = r.referenced;
      view.referencedIds = r.referenced.map((u) => eventKey(u) ?? 0);
      view.numReferenced = r.referenced.length;
    }
    return view;
  });
}

/** Renders one stored event for the API, with its references. */
export function toEventView(ctx: Ctx, event: StoredEvent, datasetId: string): ThreatEventView {
  return toEventViews(ctx, [{ event, datasetId }])[0] as ThreatEventView;
}

/** The event's own fields; references are filled in by toEventViews. */
function renderEvent(ctx: Ctx, e: StoredEvent, datasetId: string): ThreatEventView {
  const catalog = ctx.stores.catalog(ctx.accountId);
  const view: ThreatEventView = {
    uuid: e.uuid,
    datasetId,
    date: iso(e.dateMs),
    createdAt: iso(e.createdMs),
    updatedAt: iso(e.updatedMs),
    attacker: e.attacker,
    attackerCountry: e.attackerCountry,
    attackerCountryAlpha3: findCountry(e.attackerCountry)?.alpha3 ?? '',
    category: e.category,
    event: e.event,
    hasChildren: e.hasChildren,
    indicator: e.indicator,
    indicatorType: e.indicatorType,
    indicatorTypeId: catalog.indicatorTypeId(e.indicatorType),
    indicators: e.indicators.map((i) => ({ indicatorType: i.type, value: i.value })),
    killChain: e.killChain,
    mitreAttack: e.mitreAttack,
    mitreCapec: e.mitreCapec,
    numReferenced: 0,
    numReferences: 0,
    rawId: e.rawId,
    referenced: [],
    referencedIds: [],
    references: [],
    referencesIds: [],
    tags: e.tags,
    targetCountry: e.targetCountry,
    targetCountryAlpha3: findCountry(e.targetCountry)?.alpha3 ?? '',
    targetIndustry: e.targetIndustry,
    tlp: e.tlp,
  };
  if (e.insight !== null) view.insight = e.insight;
  if (e.releasabilityId !== null) view.releasabilityId = e.releasabilityId;
  return view;
}

/** normalizeCountry's answers by the text sent: feeds repeat a few hundred spellings. */
const countries = new Map<string, string>();
const COUNTRIES_CACHED = 4096;

/** Alpha-2 code for a recognised country, otherwise the text as given (trimmed). */
function normalizeCountry(text: string | undefined): string {
  if (!text) return '';
  let code = countries.get(text);
  if (code === undefined) {
    code = findCountry(text)?.alpha2 ?? text.trim();
    if (countries.size >= COUNTRIES_CACHED) countries.clear();
    countries.set(text, code);
  }
  return code;
}

/** Lists at most this long are searched for repeats instead of hashed (no Set to allocate). */
const SHORT_LIST = 16;

/** The trimmed, non-empty strings of a list, each once, in order. */
function uniqueStrings(list: readonly string[] | undefined): string[] {
  const out: string[] = [];
  if (!list) return out;
  const seen = list.length > SHORT_LIST ? new Set<string>() : undefined;
  for (let i = 0; i < list.length; i++) {
    const s = (list[i] as string).trim();
    if (!s) continue;
    if (seen) {
      if (seen.has(s)) continue;
      seen.add(s);
    } else if (out.includes(s)) continue;
    out.push(s);
  }
  return out;
}

/** Where a bulk item's problems are: `data[3].`; nothing for a single create. */
function itemPrefix(index: number | undefined): string {
  return index === undefined ? '' : `data[${index}].`;
}

/** The provenance as the schema has it: the four known fields, in schema order. */
function copySource(source: NonNullable<EventInput['source']>): EventSource {
  const out: EventSource = {
    resourceId: source.resourceId,
    resourceType: source.resourceType,
    system: source.system,
  };
  if ('title' in source) out.title = source.title;
  return out;
}

function hasIndicator(list: readonly IndicatorRef[], type: string, value: string): boolean {
  for (let i = 0; i < list.length; i++) {
    const have = list[i] as IndicatorRef;
    if (have.value === value && have.type === type) return true;
  }
  return false;
}

/**
 * Fills `out` with the event's indicators, `indicator` first, then `indicators`, normalized and
 * each once; answers the problems, each naming its field, if there are any.
 */
function addIndicators(
  out: IndicatorRef[],
  input: EventInput,
  index: number | undefined,
): string[] | undefined {
  let issues: string[] | undefined;
  const list = input.indicators;
  const count = list ? list.length : 0;
  // A set of keys only for long lists; a short one is searched.
  const seen = count + 1 > SHORT_LIST ? new Set<string>() : undefined;
  for (let k = input.indicator ? -1 : 0; k < count; k++) {
    let type: string;
    let value: string;
    if (k < 0) {
      type = input.indicatorType ?? '';
      value = input.indicator as string;
    } else {
      const item = (list as NonNullable<EventInput['indicators']>)[k] as {
        indicatorType: string;
        value: string;
      };
      type = item.indicatorType;
      value = item.value;
    }
    const ref = normalizeIndicator(type || guessIndicatorType(value), value);
    if (!ref.ok) {
      const where = k < 0 ? 'indicator' : `indicators[${k}]`;
      issues ??= [];
      issues.push(`${itemPrefix(index)}${where}: ${ref.error}`);
      continue;
    }
    if (seen) {
      const key = `${ref.type}\u0000${ref.value}`;
      if (seen.has(key)) continue;
      seen.add(key);
    } else if (hasIndicator(out, ref.type, ref.value)) continue;
    out.push({ type: ref.type, value: ref.value });
  }
  return issues;
}

/**
 * Turns a validated create body into a storable event, or a list of problems. When the event's
 * category names a known event category, killChain and mitreAttack default to the category's.
 * `index` is the item's place in a bulk request, for the problems' field names. Reads only the
 * fields it knows, so an input that still carries unknown keys (isEventInput) builds the same.
 */
function buildEvent(
  ctx: Ctx,
  input: EventInput,
  now: number,
  index: number | undefined,
  categoryOf: (category: string) => CategoryHint | undefined,
): NewEvent | string[] {
  const dateMs = parseIsoDate(input.date);
  if (dateMs === undefined)
    return [`${itemPrefix(index)}date: ${JSON.stringify(input.date)} is not an ISO 8601 date-time`];
  const indicators: IndicatorRef[] = [];
  const issues = addIndicators(indicators, input, index);
  if (issues) return issues;
  const first = indicators[0];
  const uuid = ctx.ids.eventId();
  const id = eventKey(uuid);
  if (id === undefined) throw new Error(`id generator produced a non-UUIDv7 id: ${uuid}`);
  const tlp = input.tlp.trim().toLowerCase();
  const category = input.category.trim();
  const hint =
    input.killChain === undefined || input.mitreAttack === undefined ? categoryOf(category) : undefined;
  return {
    id,
    uuid,
    dateMs,
    createdMs: now,
    updatedMs: now,
    attacker: input.attacker?.trim() ?? '',
    attackerCountry: normalizeCountry(input.attackerCountry),
    category,
    event: input.event,
    indicator: first?.value ?? '',
    indicatorType: first?.type ?? (input.indicatorType ?? '').trim().toLowerCase(),
    insight: input.insight ?? null,
    killChain: input.killChain ?? hint?.killChain ?? 0,
    mitreAttack:
      input.mitreAttack === undefined && hint ? [...hint.mitreAttack] : uniqueStrings(input.mitreAttack),
    mitreCapec: uniqueStrings(input.mitreCapec),
    tags: uniqueStrings(input.tags),
    indicators,
    targetCountry: normalizeCountry(input.targetCountry),
    targetIndustry: input.targetIndustry?.trim() ?? '',
    tlp,
    releasabilityId: input.releasabilityId ?? null,
    rawId: ctx.ids.uuid(),
    hasChildren: false,
    source: input.source ? copySource(input.source) : null,
    raw: {
      rawId: '',
      source: input.raw.source ?? 'api',
      tlp: input.raw.tlp?.trim().toLowerCase() ?? tlp,
      data: input.raw.data,
      createdMs: now,
      updatedMs: now,
    },
  };
}

const writeLocks = new Map<string, Promise<unknown>>();

/** Runs writes to one dataset one after another, so shard roll-over never races. */
export async function withDatasetLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = writeLocks.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  writeLocks.set(key, settled);
  try {
    return await run;
  } finally {
    if (writeLocks.get(key) === settled) writeLocks.delete(key);
  }
}

/** Created time of indicators in the earlier shards of a dataset (null: not there), cached. */
const firstSightings = new Map<string, number | null>();
const FIRST_SIGHTINGS_LIMIT = 500_000;

/**
 * Before writing into a dataset's second or later shard, notes for each indicator when an
 * earlier shard first saw it, so every shard carries the same created time and the lists and
 * counts see one indicator (store/migrations/shard.ts v3).
 */
async function markFirstSightings(
  ctx: Ctx,
  datasetId: string,
  earlier: readonly { id: string }[],
  events: readonly NewEvent[],
): Promise<void> {
  for (const e of events) {
    for (const ref of e.indicators) {
      const uuid = indicatorUuid(datasetId, ref.type, ref.value);
      const key = `${ctx.accountId}/${uuid}/${earlier.length}`;
      let seen = firstSightings.get(key);
      if (seen === undefined) {
        seen = null;
        for (const shard of earlier) {
          const rec = await ctx.stores.shards.indicatorByUuid(addr(ctx, shard.id), uuid);
          if (rec) {
            seen = rec.createdMs;
            break;
          }
        }
        if (firstSightings.size >= FIRST_SIGHTINGS_LIMIT) firstSightings.clear();
        firstSightings.set(key, seen);
      }
      if (seen !== null) ref.firstSeenMs = seen;
    }
  }
}

/** Events of one request waiting to be written with others (group commit). */
interface PendingWrite {
  events: NewEvent[];
  resolve: (placed: { shardId: string; count: number }[]) => void;
  reject: (err: unknown) => void;
}

const pendingWrites = new Map<string, PendingWrite[]>();
/** Most events written in one grouped transaction. */
const GROUP_LIMIT = 20_000;

/**
 * Stores events in the dataset's newest shard, rolling over to new shards as they fill.
 *
 * Writes to a dataset are grouped: while one transaction runs, the requests that arrive queue
 * up and the next transaction writes all of them. With shard writes off the main thread this
 * turns many small commits into few large ones (commit cost is per dirty page, not per row).
 * Each request stays all-or-nothing: if a grouped write fails, its requests are retried alone.
 */
export function storeEvents(
  ctx: Ctx,
  dataset: DatasetRecord,
  events: NewEvent[],
): Promise<{ shardId: string; count: number }[]> {
  const key = `${ctx.accountId}/${dataset.uuid}`;
  return new Promise((resolve, reject) => {
    let queue = pendingWrites.get(key);
    const start = queue === undefined;
    if (!queue) {
      queue = [];
      pendingWrites.set(key, queue);
    }
    queue.push({ events, resolve, reject });
    if (start) void drainWrites(ctx, dataset, key);
  });
}

async function drainWrites(ctx: Ctx, dataset: DatasetRecord, key: string): Promise<void> {
  for (;;) {
    const queue = pendingWrites.get(key);
    if (!queue || queue.length === 0) {
      pendingWrites.delete(key);
      return;
    }
    const group: PendingWrite[] = [];
    let size = 0;
    while (
      queue.length > 0 &&
      (group.length === 0 || size + (queue[0] as PendingWrite).events.length <= GROUP_LIMIT)
    ) {
      const next = queue.shift() as PendingWrite;
      group.push(next);
      size += next.events.length;
    }
    await withDatasetLock(key, async () => {
      const outcomes: Outcome[] = [];
      try {
        await writeRequests(
          ctx,
          dataset,
          group.map((g) => g.events),
          outcomes,
        );
      } catch (err) {
        // Something around the writes failed (the shard registry): whoever has no outcome yet fails.
        for (let i = outcomes.length; i < group.length; i++) outcomes[i] = { error: err };
      }
      group.forEach((g, i) => {
        const outcome = outcomes[i] as Outcome;
        if ('error' in outcome) g.reject(outcome.error);
        else g.resolve(outcome.placed);
      });
    });
  }
}

/** What became of one request of a group: where its events went, or why they were not stored. */
type Outcome = { placed: { shardId: string; count: number }[] } | { error: unknown };

/**
 * Writes the requests of a group into the dataset's newest shard, rolling over to a new shard
 * when the next request does not fit, so a request never straddles two shards and each one is
 * all-or-nothing. Consecutive requests that fit go in one transaction; if that transaction
 * fails, its requests are retried one by one, so one bad request cannot sink the others and
 * nothing committed is written twice. Only a request larger than a whole shard
 * (THREATDESK_SHARD_MAX_EVENTS below the bulk limit) is split. Fills `outcomes` in order.
 */
async function writeRequests(
  ctx: Ctx,
  dataset: DatasetRecord,
  requests: readonly NewEvent[][],
  outcomes: Outcome[],
): Promise<void> {
  const catalog = ctx.stores.catalog(ctx.accountId);
  const max = ctx.config.shardMaxEvents;
  let shards = catalog.shardsOf(dataset.uuid);
  const newShard = () => {
    const last = shards[shards.length - 1];
    const ordinal = last ? last.ordinal + 1 : 0;
    const shard = { id: shardIdFor(dataset.uuid, ordinal), datasetId: dataset.uuid, ordinal };
    catalog.addShard(shard, ctx.clock.now());
    shards = [...shards, shard];
    return shard;
  };
  const insert = async (shardId: string, events: NewEvent[]) => {
    if (shards.length > 1) await markFirstSightings(ctx, dataset.uuid, shards.slice(0, -1), events);
    await ctx.stores.shards.insertMany(addr(ctx, shardId), events);
  };
  let i = 0;
  while (i < requests.length) {
    let last = shards[shards.length - 1];
    let used = last ? await ctx.stores.shards.size(addr(ctx, last.id)) : max;
    const first = requests[i] as NewEvent[];
    if (first.length === 0) {
      outcomes.push({ placed: [] });
      i++;
      continue;
    }
    if (first.length > max) {
      // Larger than a shard: fill what is left, then whole new shards.
      try {
        const placed: { shardId: string; count: number }[] = [];
        let rest = first;
        while (rest.length > 0) {
          if (!last || used >= max) {
            last = newShard();
            used = 0;
          }
          const chunk = rest.slice(0, max - used);
          await insert(last.id, chunk);
          placed.push({ shardId: last.id, count: chunk.length });
          used += chunk.length;
          rest = rest.slice(chunk.length);
        }
        outcomes.push({ placed });
      } catch (err) {
        outcomes.push({ error: err });
      }
      i++;
      continue;
    }
    if (!last || used + first.length > max) {
      last = newShard();
      used = 0;
    }
    // The run of requests that fits in this shard, written in one transaction.
    let end = i;
    let count = 0;
    while (end < requests.length && used + count + (requests[end] as NewEvent[]).length <= max) {
      count += (requests[end] as NewEvent[]).length;
      end++;
    }
    const run = requests.slice(i, end);
    const shardId = last.id;
    try {
      await insert(shardId, run.length === 1 ? (run[0] as NewEvent[]) : run.flat());
      for (const r of run) outcomes.push({ placed: [{ shardId, count: r.length }] });
    } catch (err) {
      if (run.length === 1) outcomes.push({ error: err });
      else {
        for (const r of run) {
          try {
            await insert(shardId, r);
            outcomes.push({ placed: [{ shardId, count: r.length }] });
          } catch (own) {
            outcomes.push({ error: own });
          }
        }
      }
    }
    i = end;
  }
}

export function addr(ctx: Ctx, shardId: string): ShardAddress {
  return { accountId: ctx.accountId, shardId };
}

/** E02: creates one event. */
export async function createEvent(ctx: Ctx, input: EventInput): Promise<ThreatEventView> {
  requireWrite(ctx);
  const dataset = input.datasetId ? getLiveDataset(ctx, input.datasetId) : defaultDataset(ctx);
  const built = buildEvent(ctx, input, ctx.clock.now(), undefined, eventCategoryLookup(ctx));
  if (Array.isArray(built)) throw invalidInput(built);
  built.raw.rawId = built.rawId;
  const catalog = ctx.stores.catalog(ctx.accountId);
  catalog.ensureTags(built.tags, () => ctx.ids.uuid(), built.createdMs);
  await storeEvents(ctx, dataset, [built]);
  return toEventView(ctx, built, dataset.uuid);
}

export interface BulkResult {
  createdEventsCount: number;
  createdTagsCount: number;
  errorCount: number;
  queuedIndicatorsCount: number;
  createBulkEventsRequestId: string;
  createdEvents?: { eventIndex: number; shardId: string; uuid: string }[];
  errors?: { error: string; eventIndex: number }[];
}

/**
 * E03: validates every item on its own; the valid ones are stored (atomically per shard),
 * the invalid ones are reported with their index.
 */
export async function bulkCreateEvents(
  ctx: Ctx,
  input: { datasetId: string; data: readonly unknown[]; includeCreatedEvents?: boolean | undefined },
): Promise<BulkResult> {
  requireWrite(ctx);
  if (input.data.length > ctx.config.maxBulkEvents) {
    throw invalidInput(
      `data: at most ${ctx.config.maxBulkEvents} events per request, got ${input.data.length}`,
    );
  }
  const target = getLiveDataset(ctx, input.datasetId);
  const now = ctx.clock.now();
  const errors: { error: string; eventIndex: number }[] = [];
  const byDataset = new Map<string, { dataset: DatasetRecord; indexes: number[]; events: NewEvent[] }>();
  byDataset.set(target.uuid, { dataset: target, indexes: [], events: [] });
  const tagSet = new Set<string>();
  let indicatorCount = 0;
  const categoryOf = eventCategoryLookup(ctx);

  for (let index = 0; index < input.data.length; index++) {
    const item = input.data[index];
    // Most items pass the hand-written check as they are; zod sees the others, for its messages.
    let valid: EventInput;
    if (isEventInput(item)) valid = item;
    else {
      const parsed = EventInputSchema.safeParse(item);
      if (!parsed.success) {
        errors.push({
          eventIndex: index,
          error: formatIssues(parsed.error.issues, `data[${index}]`).join('; '),
        });
        continue;
      }
      valid = parsed.data;
    }
    let dataset = target;
    const own = valid.datasetId;
    if (own && own !== target.uuid) {
      const found = ctx.stores.catalog(ctx.accountId).getDataset(own);
      if (!found || found.deletedAt !== null) {
        errors.push({ eventIndex: index, error: `data[${index}].datasetId: dataset not found: ${own}` });
        continue;
      }
      dataset = found;
    }
    const built = buildEvent(ctx, valid, now, index, categoryOf);
    if (Array.isArray(built)) {
      errors.push({ eventIndex: index, error: built.join('; ') });
      continue;
    }
    built.raw.rawId = built.rawId;
    for (const t of built.tags) tagSet.add(t);
    indicatorCount += built.indicators.length;
    let group = byDataset.get(dataset.uuid);
    if (!group) {
      group = { dataset, indexes: [], events: [] };
      byDataset.set(dataset.uuid, group);
    }
    group.indexes.push(index);
    group.events.push(built);
  }

  const createdTagsCount = ctx.stores
    .catalog(ctx.accountId)
    .ensureTags([...tagSet], () => ctx.ids.uuid(), now);
  const createdEvents: { eventIndex: number; shardId: string; uuid: string }[] = [];
  let created = 0;
  for (const { dataset, indexes, events } of byDataset.values()) {
    if (events.length === 0) continue;
    const placed = await storeEvents(ctx, dataset, events);
    let cursor = 0;
    for (const { shardId, count } of placed) {
      for (let k = 0; k < count; k++) {
        const event = events[cursor + k];
        if (event && input.includeCreatedEvents) {
          createdEvents.push({ eventIndex: indexes[cursor + k] as number, shardId, uuid: event.uuid });
        }
      }
      cursor += count;
    }
    created += events.length;
  }
  const result: BulkResult = {
    createdEventsCount: created,
    createdTagsCount,
    errorCount: errors.length,
    queuedIndicatorsCount: indicatorCount,
    createBulkEventsRequestId: ctx.ids.uuid(),
  };
  if (input.includeCreatedEvents)
    result.createdEvents = createdEvents.sort((a, b) => a.eventIndex - b.eventIndex);
  if (errors.length > 0) result.errors = errors;
  return result;
}

/** Finds an event by uuid in the given datasets (all live datasets when none are given). */
export async function locateEvent(
  ctx: Ctx,
  uuid: string,
  datasets?: readonly DatasetRecord[],
): Promise<{ event: StoredEvent; dataset: DatasetRecord; shardId: string } | undefined> {
  if (eventKey(uuid) === undefined) return undefined;
  const catalog = ctx.stores.catalog(ctx.accountId);
  const list = datasets ?? catalog.listDatasets(false);
  for (const dataset of list) {
    for (const shard of catalog.shardsOf(dataset.uuid)) {
      const event = await ctx.stores.shards.get(addr(ctx, shard.id), uuid);
      if (event) return { event, dataset, shardId: shard.id };
    }
  }
  return undefined;
}

async function mustLocate(ctx: Ctx, uuid: string, datasetId?: string) {
  const datasets = datasetId ? [getLiveDataset(ctx, datasetId)] : undefined;
  const found = await locateEvent(ctx, uuid, datasets);
  if (!found) {
    throw notFound('event', datasetId ? `${uuid} in dataset ${datasetId}` : uuid);
  }
  return found;
}

/** E05 (any dataset of the account) and E08 (one dataset). */
export async function getEvent(ctx: Ctx, uuid: string, datasetId?: string): Promise<ThreatEventView> {
  const found = await mustLocate(ctx, uuid, datasetId);
  return toEventView(ctx, found.event, found.dataset.uuid);
}

/** E06/E07: partial edit of an event in the named dataset. */
export async function editEvent(ctx: Ctx, uuid: string, input: EventEdit): Promise<ThreatEventView> {
  requireWrite(ctx);
  const found = await mustLocate(ctx, uuid, input.datasetId);
  const patch: EventPatch = { updatedMs: ctx.clock.now() };
  const issues: string[] = [];
  if (input.date !== undefined) {
    const ms = parseIsoDate(input.date);
    if (ms === undefined) issues.push(`date: ${JSON.stringify(input.date)} is not an ISO 8601 date-time`);
    else patch.dateMs = ms;
  }
  if (input.createdAt !== undefined) {
    const ms = parseIsoDate(input.createdAt);
    if (ms === undefined)
      issues.push(`createdAt: ${JSON.stringify(input.createdAt)} is not an ISO 8601 date-time`);
    else patch.createdMs = ms;
  }
  if (issues.length) throw invalidInput(issues);
  if (input.attacker !== undefined) patch.attacker = input.attacker?.trim() ?? '';
  if (input.attackerCountry !== undefined) patch.attackerCountry = normalizeCountry(input.attackerCountry);
  if (input.targetCountry !== undefined) patch.targetCountry = normalizeCountry(input.targetCountry);
  if (input.category !== undefined) patch.category = input.category.trim();
  if (input.event !== undefined) patch.event = input.event;
  if (input.insight !== undefined) patch.insight = input.insight;
  if (input.targetIndustry !== undefined) patch.targetIndustry = input.targetIndustry.trim();
  if (input.tlp !== undefined) patch.tlp = input.tlp.trim().toLowerCase();
  if (input.indicator !== undefined || input.indicatorType !== undefined) {
    const value = input.indicator ?? found.event.indicator;
    const ref = normalizeIndicator(
      input.indicatorType || found.event.indicatorType || guessIndicatorType(value),
      value,
    );
    if (!ref.ok) throw invalidInput(`indicator: ${ref.error}`);
    patch.indicator = ref.value;
    patch.indicatorType = ref.type;
  }
  if (input.raw) {
    patch.raw = {};
    if (input.raw.data !== undefined) patch.raw.data = input.raw.data;
    if (input.raw.source !== undefined) patch.raw.source = input.raw.source;
    if (input.raw.tlp !== undefined) patch.raw.tlp = input.raw.tlp.trim().toLowerCase();
  }
  const updated = await ctx.stores.shards.update(addr(ctx, found.shardId), uuid, patch);
  if (!updated) throw notFound('event', uuid);
  return toEventView(ctx, updated, found.dataset.uuid);
}

/** The raw payload as E16 answers it. */
export interface RawView {
  id: string;
  accountId: number;
  created: string;
  updated: string;
  data: unknown;
  source: string;
  tlp: string;
}

function toRawView(ctx: Ctx, raw: RawPayload): RawView {
  return {
    id: raw.rawId,
    accountId: accountNumber(ctx.accountId),
    created: iso(raw.createdMs),
    updated: iso(raw.updatedMs),
    data: raw.data,
    source: raw.source,
    tlp: raw.tlp,
  };
}

/** The API types `accountId` as a number; ours are hex strings, so answer a stable number from them. */
function accountNumber(accountId: string): number {
  const n = Number.parseInt(accountId.slice(0, 12), 16);
  return Number.isFinite(n) ? n : 0;
}

/** E16: the raw payload of an event; `rawId` must be the event's. */
export async function getRaw(ctx: Ctx, eventId: string, rawId: string, datasetId?: string): Promise<RawView> {
  const found = await mustLocate(ctx, eventId, datasetId);
  if (rawId !== found.event.rawId) throw notFound('raw event', `${rawId} of event ${eventId}`);
  const raw = await ctx.stores.shards.getRaw(addr(ctx, found.shardId), eventId);
  if (!raw) throw notFound('raw event', rawId);
  return toRawView(ctx, raw);
}

/** E19: the raw payload of an event in a dataset. */
export async function getRawInDataset(ctx: Ctx, datasetId: string, eventId: string): Promise<RawView> {
  const found = await mustLocate(ctx, eventId, datasetId);
  const raw = await ctx.stores.shards.getRaw(addr(ctx, found.shardId), eventId);
  if (!raw) throw notFound('raw event', eventId);
  return toRawView(ctx, raw);
}

/** E17/E18: edits the raw payload. */
export async function editRaw(
  ctx: Ctx,
  eventId: string,
  rawId: string,
  input: RawEdit,
): Promise<{ id: string; data: unknown }> {
  requireWrite(ctx);
  const found = await mustLocate(ctx, eventId);
  if (rawId !== found.event.rawId) throw notFound('raw event', `${rawId} of event ${eventId}`);
  if (
    input.data !== undefined &&
    input.data !== null &&
    (typeof input.data !== 'object' || Array.isArray(input.data))
  ) {
    throw invalidInput('data: must be a JSON object or null');
  }
  const patch: NonNullable<EventPatch['raw']> = {};
  if (input.data !== undefined) patch.data = input.data;
  if (input.source !== undefined) patch.source = input.source;
  if (input.tlp !== undefined) patch.tlp = input.tlp.trim().toLowerCase();
  const raw = await ctx.stores.shards.updateRaw(addr(ctx, found.shardId), eventId, patch);
  if (!raw) throw notFound('raw event', rawId);
  return { id: raw.rawId, data: raw.data };
}
