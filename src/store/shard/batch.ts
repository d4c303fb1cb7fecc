import type { IndicatorRef, NewEvent, StoredEvent } from '../../domain/events/model.ts';

/**
 * New events flattened for a shard: per event, the parameters of its `events` and `raw` rows
 * (JSON columns already encoded) and its full-text indicator words, back to back in one array;
 * its tags and indicators in flat arrays beside, for the postings and the indicator rows.
 *
 * The Node server builds batches in its server thread and posts them to the storage thread:
 * arrays of strings and numbers cross a thread far more cheaply than objects, whose property
 * names are written out for each one, and the JSON encoding is done where there is CPU to spare.
 */
export interface EventBatch {
  size: number;
  /** `STRIDE` values per event: EVENT_PARAMS, then RAW_PARAMS, then the full-text indicator words. */
  values: unknown[];
  /** Tags of every event, in order; `tagCounts[i]` of them belong to event i. */
  tags: string[];
  tagCounts: number[];
  /** Indicators of every event as (type, value, firstSeenMs or -1) triples; `indicatorCounts[i]` per event. */
  indicators: (string | number)[];
  indicatorCounts: number[];
}

/** Parameters of INSERT_EVENT and INSERT_RAW, per event. */
export const EVENT_PARAMS = 24;
export const RAW_PARAMS = 7;
export const STRIDE = EVENT_PARAMS + RAW_PARAMS + 1;

/** Flattens events for a shard. */
export function toBatch(events: readonly NewEvent[]): EventBatch {
  const values: unknown[] = [];
  const tags: string[] = [];
  const tagCounts: number[] = [];
  const indicators: (string | number)[] = [];
  const indicatorCounts: number[] = [];
  for (const e of events) {
    for (const ref of e.indicators) indicators.push(ref.type, ref.value, ref.firstSeenMs ?? -1);
    values.push(
      e.id,
      e.uuid,
      e.dateMs,
      e.createdMs,
      e.updatedMs,
      e.attacker,
      e.attackerCountry,
      e.category,
      e.event,
      e.indicator,
      e.indicatorType,
      e.insight,
      e.killChain,
      JSON.stringify(e.mitreAttack),
      JSON.stringify(e.mitreCapec),
      JSON.stringify(e.tags),
      JSON.stringify(e.indicators, ['type', 'value']),
      e.targetCountry,
      e.targetIndustry,
      e.tlp,
      e.releasabilityId,
      e.rawId,
      e.hasChildren ? 1 : 0,
      e.source === null ? null : JSON.stringify(e.source),
      e.id,
      e.raw.rawId,
      e.raw.source,
      e.raw.tlp,
      e.raw.data === null || e.raw.data === undefined ? null : JSON.stringify(e.raw.data),
      e.raw.createdMs,
      e.raw.updatedMs,
      e.indicators.map((i) => i.value).join(' '),
    );
    for (const t of e.tags) tags.push(t);
    tagCounts.push(e.tags.length);
    indicatorCounts.push(e.indicators.length);
  }
  return { size: events.length, values, tags, tagCounts, indicators, indicatorCounts };
}

/** One event of a batch as the postings and indicator rows need it. */
export interface BatchEvent {
  id: number;
  dateMs: number;
  createdMs: number;
  attacker: string;
  tags: string[];
  indicators: IndicatorRef[];
}

/** Walks a batch event by event; `at` is the event's first value in `values`. */
export function* batchEvents(batch: EventBatch): Generator<BatchEvent & { at: number }> {
  const v = batch.values;
  let tag = 0;
  let ind = 0;
  for (let i = 0; i < batch.size; i++) {
    const at = i * STRIDE;
    const tagCount = batch.tagCounts[i] as number;
    const tags = batch.tags.slice(tag, tag + tagCount);
    tag += tagCount;
    const indicators: IndicatorRef[] = [];
    const end = ind + 3 * (batch.indicatorCounts[i] as number);
    for (; ind < end; ind += 3) {
      const firstSeen = batch.indicators[ind + 2] as number;
      const ref: IndicatorRef = {
        type: batch.indicators[ind] as string,
        value: batch.indicators[ind + 1] as string,
      };
      if (firstSeen >= 0) ref.firstSeenMs = firstSeen;
      indicators.push(ref);
    }
    yield {
      at,
      id: v[at] as number,
      dateMs: v[at + 2] as number,
      createdMs: v[at + 3] as number,
      attacker: v[at + 5] as string,
      tags,
      indicators,
    };
  }
}

/** The stored event of a batch entry (only for the column copy, once it is built). */
export function batchEvent(batch: EventBatch, e: BatchEvent & { at: number }): StoredEvent {
  const v = batch.values;
  const at = e.at;
  return {
    id: e.id,
    uuid: v[at + 1] as string,
    dateMs: e.dateMs,
    createdMs: e.createdMs,
    updatedMs: v[at + 4] as number,
    attacker: e.attacker,
    attackerCountry: v[at + 6] as string,
    category: v[at + 7] as string,
    event: v[at + 8] as string,
    indicator: v[at + 9] as string,
    indicatorType: v[at + 10] as string,
    insight: v[at + 11] as string | null,
    killChain: v[at + 12] as number,
    mitreAttack: JSON.parse(v[at + 13] as string) as string[],
    mitreCapec: JSON.parse(v[at + 14] as string) as string[],
    tags: e.tags,
    indicators: e.indicators,
    targetCountry: v[at + 17] as string,
    targetIndustry: v[at + 18] as string,
    tlp: v[at + 19] as string,
    releasabilityId: v[at + 20] as string | null,
    rawId: v[at + 21] as string,
    hasChildren: v[at + 22] === 1,
    source: v[at + 23] === null ? null : JSON.parse(v[at + 23] as string),
  };
}
