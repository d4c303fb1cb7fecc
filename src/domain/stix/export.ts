import type { Ctx } from '../context.ts';
import { DEFAULT_PAGE_SIZE, type ListEventsInput, listEvents } from '../events/list.ts';
import type { ExportedObjects, StixObject } from './objects.ts';
import { eventObjects } from './objects.ts';

/** `format` values that answer STIX instead of the v4 envelope. */
export type StixFormat = 'stix2' | 'taxii';

export const STIX_MEDIA_TYPE = 'application/stix+json;version=2.1';
export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';

/** Events read from the store per step of a streamed export. */
export const EXPORT_CHUNK = 1000;

/** Shared objects remembered per response; past this the set restarts (objects may repeat, never miss). */
const MAX_REMEMBERED = 50_000;

/**
 * Collects exported objects, sending each shared object (producer, actor, marking…) once.
 * Memory stays bounded: at most MAX_REMEMBERED ids are remembered.
 */
export class ObjectDeduper {
  private readonly seen = new Set<string>();

  /** The objects of `exported` not sent yet, shared ones first. */
  take(exported: ExportedObjects): StixObject[] {
    const out: StixObject[] = [];
    for (const o of exported.shared) {
      if (this.seen.has(o.id)) continue;
      if (this.seen.size >= MAX_REMEMBERED) this.seen.clear();
      this.seen.add(o.id);
      out.push(o);
    }
    out.push(...exported.own);
    return out;
  }
}

/** Objects of several exports, each shared object once (for answers that fit in memory). */
export function collectObjects(list: readonly ExportedObjects[]): StixObject[] {
  const dedupe = new ObjectDeduper();
  return list.flatMap((e) => dedupe.take(e));
}

/** A STIX 2.1 bundle (objects is left out when empty: the bundle schema wants at least one). */
export function bundle(id: string, objects: readonly StixObject[]) {
  return objects.length ? { type: 'bundle', id, objects } : { type: 'bundle', id };
}

/** A TAXII 2.1 envelope. */
export function taxiiEnvelope(objects: readonly StixObject[], next: string | null | undefined) {
  const body: { more: boolean; next?: string; objects?: readonly StixObject[] } = { more: !!next };
  if (next) body.next = next;
  if (objects.length) body.objects = objects;
  return body;
}

/**
 * Writes a JSON document whose `objects` array is filled piece by piece: the head, then
 * objects as they come, then the tail. The array is only opened when the first object comes.
 */
class JsonArrayWriter {
  private opened = false;

  constructor(private readonly head: string) {}

  /** Text for the next objects. */
  objects(objects: readonly StixObject[]): string {
    if (objects.length === 0) return '';
    const parts = objects.map((o) => JSON.stringify(o));
    const prefix = this.opened ? ',' : `${this.head}${this.head === '{' ? '' : ','}"objects":[`;
    this.opened = true;
    return prefix + parts.join(',');
  }

  /** Closing text; `tail` are the members after `objects` (without a leading comma). */
  end(tail: string): string {
    if (this.opened) return `]${tail ? `,${tail}` : ''}}`;
    const members = this.head === '{' ? tail : `${this.head.slice(1)}${tail ? `,${tail}` : ''}`;
    return `{${members}}`;
  }
}

export interface EventExport {
  stream: ReadableStream<Uint8Array>;
  /** The next-page cursor when it is known before streaming (the page fits in one step). */
  cursor?: string | null;
}

/**
 * E01 as STIX: a bundle (`stix2`) or a TAXII envelope (`taxii`), written as a stream. Events
 * are read EXPORT_CHUNK at a time by cursor and turned into objects as the client reads, so
 * memory does not grow with the number of events. `all` streams every matching event (no
 * paging); otherwise one page of `pageSize` events, and the TAXII envelope's `next` is the
 * E01 cursor of the page after it. The first step runs before this returns, so bad input is
 * still answered 400 with the v4 envelope.
 */
export async function exportEvents(
  ctx: Ctx,
  input: ListEventsInput,
  options: { format: StixFormat; all: boolean; bundleId: string; chunk?: number },
): Promise<EventExport> {
  const chunk = options.chunk ?? EXPORT_CHUNK;
  const pageSize = input.pageSize ?? DEFAULT_PAGE_SIZE;
  const wanted = options.all ? Number.POSITIVE_INFINITY : pageSize;
  // The first step keeps the page's offset: its size must divide the offset of page `page`.
  const offset = input.cursor === undefined && !options.all ? ((input.page ?? 1) - 1) * pageSize : 0;
  let first = Math.min(chunk, wanted);
  while (offset % first !== 0) first--;
  const firstInput: ListEventsInput =
    input.cursor !== undefined
      ? { cursor: input.cursor, pageSize: first }
      : { ...input, pageSize: first, page: offset / first + 1 };
  let page = await listEvents(ctx, firstInput);

  const dedupe = new ObjectDeduper();
  const writer = new JsonArrayWriter(
    options.format === 'stix2' ? `{"type":"bundle","id":${JSON.stringify(options.bundleId)}` : '{',
  );
  const encoder = new TextEncoder();
  let sent = 0;
  let done = false;
  const stream = new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      if (done) return;
      const objects: StixObject[] = [];
      for (const e of page.events) objects.push(...dedupe.take(eventObjects(ctx.accountId, e)));
      sent += page.events.length;
      const next = page.resultInfo.cursor;
      const remaining = wanted - sent;
      let text = writer.objects(objects);
      if (!next || remaining <= 0) {
        done = true;
        const more = !options.all && next !== undefined;
        const tail =
          options.format === 'taxii' ? `"more":${more}${more ? `,"next":${JSON.stringify(next)}` : ''}` : '';
        text += writer.end(tail);
        controller.enqueue(encoder.encode(text));
        controller.close();
        return;
      }
      if (text) controller.enqueue(encoder.encode(text));
      page = await listEvents(ctx, { cursor: next, pageSize: Math.min(chunk, remaining) });
    },
  });
  const fits = wanted <= first || !page.resultInfo.cursor;
  return fits ? { stream, cursor: page.resultInfo.cursor ?? null } : { stream };
}
