/**
 * A read-only TAXII 2.1 server over the account's datasets: one API root per account, one
 * collection per live dataset (id = dataset uuid). A collection's objects are its events as
 * STIX (see stix/objects.ts), added when the event was created: `date_added` is the event's
 * createdAt, objects are listed oldest first, and `added_after` filters on it.
 */
import type { Ctx } from '../context.ts';
import { listDatasets } from '../datasets/datasets.ts';
import { DEFAULT_PAGE_SIZE, type ListEventsInput, listEvents, MAX_PAGE_SIZE } from '../events/list.ts';
import type { RawCondition } from '../events/search.ts';
import { parseIsoDate } from '../events/search.ts';
import { TAXII_MEDIA_TYPE } from '../stix/export.ts';
import { eventObjects, type StixObject } from '../stix/objects.ts';

export const STIX_OBJECT_MEDIA_TYPE = 'application/stix+json;version=2.1';
export const DEFAULT_OBJECT_LIMIT = 1000;
export const MAX_OBJECT_LIMIT = 10_000;
/** Largest answer body we mean to send; objects pages stay well below it. */
export const MAX_CONTENT_LENGTH = 104_857_600;

/** A TAXII error: answered as {title, description, http_status} with the TAXII media type. */
export class TaxiiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 406 | 416 | 422 | 500,
    readonly title: string,
    readonly description?: string,
  ) {
    super(description ? `${title}: ${description}` : title);
    this.name = 'TaxiiError';
  }

  body() {
    return {
      title: this.title,
      ...(this.description ? { description: this.description } : {}),
      http_status: String(this.status),
    };
  }
}

export interface Collection {
  id: string;
  title: string;
  description?: string;
  can_read: true;
  can_write: false;
  media_types: string[];
}

/** GET /taxii2/: the discovery resource, for the token's account. */
export function discovery(ctx: Ctx, baseUrl: string) {
  const root = `${baseUrl}/taxii2/${encodeURIComponent(ctx.accountId)}/`;
  return {
    title: 'threatdesk TAXII 2.1',
    description: 'Threat events of this account as STIX 2.1, one collection per dataset (read-only).',
    default: root,
    api_roots: [root],
  };
}

/** GET /taxii2/{account}/: the API root. */
export function apiRoot(ctx: Ctx) {
  return {
    title: `threatdesk account ${ctx.accountId}`,
    description:
      'One collection per dataset; objects are the events as STIX 2.1 reports, indicators and context.',
    versions: [TAXII_MEDIA_TYPE],
    max_content_length: MAX_CONTENT_LENGTH,
  };
}

/** The collections: every live dataset of the account. */
export function collections(ctx: Ctx): Collection[] {
  return listDatasets(ctx, { includeDeleted: false }).map((d) => ({
    id: d.uuid,
    title: d.name,
    description: `Dataset ${d.name}${d.isAnalytics ? ' (analytics)' : ''}`,
    can_read: true,
    can_write: false,
    media_types: [STIX_OBJECT_MEDIA_TYPE],
  }));
}

export function collection(ctx: Ctx, id: string): Collection {
  const found = collections(ctx).find((c) => c.id === id);
  if (!found) throw new TaxiiError(404, 'Collection not found', `no collection ${id} in this API root`);
  return found;
}

/** Filters of an objects/manifest request. */
export interface ObjectFilters {
  addedAfter?: string | undefined;
  types?: string[] | undefined;
  ids?: string[] | undefined;
  /** Timestamps of `modified`; absent (or all/first/last) = every object's only version. */
  versions?: string[] | undefined;
  specVersions?: string[] | undefined;
}

/** One object with its TAXII date_added. */
export interface AddedObject {
  object: StixObject;
  dateAdded: string;
}

export interface ObjectPage {
  objects: AddedObject[];
  more: boolean;
  next?: string;
}

/** What `next` carries: where the page stopped, and the filters (so a client need not resend them). */
interface PageToken {
  v: 1;
  /** Collection the token belongs to. */
  k: string;
  /** E01 cursor of the batch the page stopped in (absent: the first batch). */
  c?: string;
  /** Events of that batch already finished. */
  s: number;
  /** Objects of the next event already sent. */
  o: number;
  f: ObjectFilters;
}

function encodeToken(t: PageToken): string {
  const bytes = new TextEncoder().encode(JSON.stringify(t));
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function decodeToken(text: string, collectionId: string): PageToken {
  const bad = new TaxiiError(
    400,
    'Invalid next',
    'next is not a token this server issued for this collection',
  );
  if (text.length > 16_384 || !/^[A-Za-z0-9_-]+$/.test(text)) throw bad;
  let t: Partial<PageToken>;
  try {
    const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    t = JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (ch) => ch.charCodeAt(0))));
  } catch {
    throw bad;
  }
  if (
    t?.v !== 1 ||
    t.k !== collectionId ||
    typeof t.s !== 'number' ||
    typeof t.o !== 'number' ||
    (t.c !== undefined && typeof t.c !== 'string') ||
    typeof t.f !== 'object' ||
    t.f === null
  ) {
    throw bad;
  }
  return t as PageToken;
}

/** Checks the filters of a request (400 on a bad added_after). */
export function checkFilters(f: ObjectFilters): ObjectFilters {
  if (f.addedAfter !== undefined && parseIsoDate(f.addedAfter) === undefined) {
    throw new TaxiiError(400, 'Invalid added_after', `${JSON.stringify(f.addedAfter)} is not a timestamp`);
  }
  const versions = f.versions?.filter((v) => !['all', 'first', 'last'].includes(v));
  return { ...f, versions: versions?.length ? versions : undefined };
}

function matches(o: StixObject, f: ObjectFilters): boolean {
  if (f.types && !f.types.includes(o.type)) return false;
  if (f.ids && !f.ids.includes(o.id)) return false;
  if (f.specVersions && !f.specVersions.includes('2.1')) return false;
  if (f.versions) {
    const version = (o.modified ?? o.created) as string | undefined;
    if (!version || !f.versions.some((v) => parseIsoDate(v) === parseIsoDate(version))) return false;
  }
  return true;
}

/**
 * One page of a collection's objects: at most `limit` objects, in event order (createdAt,
 * then uuid). Shared objects (producer, actors, sectors, markings) are sent once per page.
 * Reads events in batches by cursor, so memory is bounded by the limit, not the collection.
 */
export async function objectsPage(
  ctx: Ctx,
  collectionId: string,
  request: { filters: ObjectFilters; limit?: number | undefined; next?: string | undefined },
): Promise<ObjectPage> {
  collection(ctx, collectionId);
  const limit = request.limit ?? DEFAULT_OBJECT_LIMIT;
  const token: PageToken = request.next
    ? decodeToken(request.next, collectionId)
    : { v: 1, k: collectionId, s: 0, o: 0, f: checkFilters(request.filters) };
  const f = token.f;
  const search: RawCondition[] = f.addedAfter ? [{ field: 'createdAt', op: 'gt', value: f.addedAfter }] : [];
  const firstQuery: ListEventsInput = {
    datasetId: [collectionId],
    ...(search.length ? { search } : {}),
    order: 'asc',
    orderBy: 'createdAt',
  };
  const out: AddedObject[] = [];
  const seen = new Set<string>();
  let batchCursor = token.c;
  let skipEvents = token.s;
  let skipObjects = token.o;
  for (;;) {
    const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(DEFAULT_PAGE_SIZE, skipEvents + limit));
    const batch = await listEvents(
      ctx,
      batchCursor === undefined ? { ...firstQuery, pageSize } : { cursor: batchCursor, pageSize },
    );
    const events = batch.events;
    for (let j = skipEvents; j < events.length; j++) {
      const e = events[j];
      if (!e) continue;
      const exported = eventObjects(ctx.accountId, e);
      const all = [...exported.shared, ...exported.own];
      for (let k = j === skipEvents ? skipObjects : 0; k < all.length; k++) {
        const o = all[k];
        if (!o || !matches(o, f)) continue;
        const shared = k < exported.shared.length;
        if (shared && seen.has(o.id)) continue;
        if (out.length === limit) {
          // Page full: the next page starts at this object.
          const next = encodeToken({ ...token, c: batchCursor, s: j, o: k });
          return { objects: out, more: true, next };
        }
        if (shared) seen.add(o.id);
        out.push({ object: o, dateAdded: e.createdAt });
      }
    }
    const following = batch.resultInfo.cursor;
    if (!following) return { objects: out, more: false };
    if (out.length === limit) {
      return { objects: out, more: true, next: encodeToken({ ...token, c: following, s: 0, o: 0 }) };
    }
    batchCursor = following;
    skipEvents = 0;
    skipObjects = 0;
  }
}

/** Every version of one object in the collection (a scan of the collection; 404 when absent). */
export async function objectById(
  ctx: Ctx,
  collectionId: string,
  objectId: string,
  request: { filters: ObjectFilters; limit?: number | undefined; next?: string | undefined },
): Promise<ObjectPage> {
  const filters = { ...request.filters, ids: [objectId] };
  const found: AddedObject[] = [];
  const versions = new Set<string>();
  let page = await objectsPage(ctx, collectionId, { filters, limit: MAX_OBJECT_LIMIT, next: request.next });
  for (;;) {
    for (const a of page.objects) {
      const version = String(a.object.modified ?? a.object.created ?? '');
      if (versions.has(version)) continue;
      versions.add(version);
      found.push(a);
    }
    if (!page.next) break;
    page = await objectsPage(ctx, collectionId, { filters, limit: MAX_OBJECT_LIMIT, next: page.next });
  }
  if (found.length === 0) {
    throw new TaxiiError(404, 'Object not found', `no object ${objectId} in collection ${collectionId}`);
  }
  return { objects: found.slice(0, request.limit ?? found.length), more: false };
}

/** A manifest record of an object. */
export function manifestRecord(a: AddedObject) {
  return {
    id: a.object.id,
    date_added: a.dateAdded,
    version: String(a.object.modified ?? a.object.created ?? a.dateAdded),
    media_type: STIX_OBJECT_MEDIA_TYPE,
  };
}
