/** One indicator attached to an event. `type` is lower-case (domain, ip, sha256, …). */
export interface IndicatorRef {
  type: string;
  value: string;
  /** When an earlier shard of the dataset already has this indicator: its created time there. */
  firstSeenMs?: number;
}

/** Provenance of an event derived from an article (SDK `source`). */
export interface EventSource {
  resourceId: string;
  resourceType: string;
  system: string;
  title?: string | null;
}

/** An event as a shard stores it. Times are epoch milliseconds. */
export interface StoredEvent {
  /** Integer key derived from the uuid (domain/ids.ts). */
  id: number;
  uuid: string;
  dateMs: number;
  createdMs: number;
  updatedMs: number;
  attacker: string;
  attackerCountry: string;
  category: string;
  event: string;
  indicator: string;
  indicatorType: string;
  insight: string | null;
  killChain: number;
  mitreAttack: string[];
  mitreCapec: string[];
  tags: string[];
  indicators: IndicatorRef[];
  targetCountry: string;
  targetIndustry: string;
  tlp: string;
  releasabilityId: string | null;
  rawId: string;
  hasChildren: boolean;
  source: EventSource | null;
}

/** The raw payload an event was created from. */
export interface RawPayload {
  rawId: string;
  source: string;
  tlp: string;
  data: unknown;
  createdMs: number;
  updatedMs: number;
}

/** A new event with its raw payload, ready for a shard. */
export interface NewEvent extends StoredEvent {
  raw: RawPayload;
}

/** Fields an edit may change; absent means unchanged. */
export type EventPatch = Partial<
  Pick<
    StoredEvent,
    | 'attacker'
    | 'attackerCountry'
    | 'category'
    | 'createdMs'
    | 'dateMs'
    | 'event'
    | 'indicator'
    | 'indicatorType'
    | 'insight'
    | 'targetCountry'
    | 'targetIndustry'
    | 'tlp'
    | 'updatedMs'
  >
> & { raw?: Partial<Pick<RawPayload, 'data' | 'source' | 'tlp'>> };

/** Sortable event fields and the values they sort by. */
export const SORT_FIELDS = [
  'date',
  'createdAt',
  'attacker',
  'attackerCountry',
  'category',
  'event',
  'indicator',
  'indicatorType',
  'insight',
  'killChain',
  'targetCountry',
  'targetIndustry',
  'tlp',
  'uuid',
  'hasChildren',
] as const;
export type SortField = (typeof SORT_FIELDS)[number];

export type SortValue = string | number;
