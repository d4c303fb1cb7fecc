import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { ApiError } from '../../domain/errors.ts';
import {
  bulkCreateEvents,
  createEvent,
  editEvent,
  editRaw,
  getEvent,
  getRaw,
  getRawInDataset,
} from '../../domain/events/events.ts';
import { EventEditSchema, EventInputSchema, RawEditSchema } from '../../domain/events/input.ts';
import { listEvents, MAX_PAGE_SIZE } from '../../domain/events/list.ts';
import { MAX_CONDITIONS } from '../../domain/events/search.ts';
import { exportEvents } from '../../domain/stix/export.ts';
import type { AppEnv } from '../auth.ts';
import { bearerSecurity, jsonBody, okResponses, reply } from '../envelope.ts';
import { QueryParams } from '../query.ts';
import { register } from '../route.ts';
import {
  AccountParam,
  CF,
  DatasetIdParam,
  EventIdParam,
  queryParam,
  RawEventSchema,
  RawIdParam,
  ResultInfoSchema,
  ThreatEventSchema,
} from '../schemas.ts';
import { type ListFormat, parseFormat, stixResponse } from '../stix/format.ts';

const tags = ['Events'];

const BulkBody = z
  .object({
    datasetId: z
      .string()
      .min(1)
      .max(64)
      .openapi({ description: 'Dataset to store the events in (required)' }),
    includeCreatedEvents: z
      .boolean()
      .optional()
      .openapi({ description: 'Answer eventIndex, uuid and shardId per event' }),
    // Any items here: bulkCreateEvents validates each one on its own (invalid ones become
    // errors[], not a 400), so the route must not run the item schema over the list first.
    // The document still names the item schema.
    data: z
      .array(z.unknown())
      .min(1)
      .openapi({
        description: 'Events, each shaped like the EventCreate body; validated one by one',
        items: { $ref: '#/components/schemas/EventCreate' },
      }),
  })
  .openapi('BulkCreateBody');

const BulkResultSchema = z
  .object({
    createdEventsCount: z.number(),
    createdTagsCount: z.number(),
    errorCount: z.number(),
    queuedIndicatorsCount: z.number(),
    createBulkEventsRequestId: z.string(),
    createdEvents: z
      .array(z.object({ eventIndex: z.number(), shardId: z.string(), uuid: z.string() }))
      .optional(),
    errors: z.array(z.object({ error: z.string(), eventIndex: z.number() })).optional(),
  })
  .openapi('BulkCreateResult');

const LIST_PARAMS = [
  'datasetId',
  'search',
  'page',
  'pageSize',
  'cursor',
  'order',
  'orderBy',
  'format',
  'export',
  'forceRefresh',
  'cache',
];

/** `export=all`: the whole result in one streamed STIX answer (not for json, not with paging). */
function parseExport(q: QueryParams, format: ListFormat): boolean {
  const value = q.string('export');
  if (value === undefined || value === '') return false;
  if (value !== 'all')
    throw new ApiError('invalidInput', `export: ${JSON.stringify(value)} is not supported; use all`);
  if (format === 'json') {
    throw new ApiError('invalidInput', 'export: export=all needs format=stix2 or format=taxii');
  }
  const paging = ['page', 'cursor'].filter((n) => q.has(n));
  if (paging.length > 0) {
    throw new ApiError(
      'invalidInput',
      `export: export=all streams every event; do not send ${paging.join(', ')}`,
    );
  }
  return true;
}

/** Registers E01–E03, E05–E08 and E16–E19. Literal paths are registered before parameter paths. */
export function eventRoutes(app: OpenAPIHono<AppEnv>): void {
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events`,
      tags,
      security: bearerSecurity,
      summary: 'List and search events (E01)',
      description:
        'Conditions are AND-ed. Strings: equals/not/in exact; contains/startsWith/endsWith case-insensitive; like is a ' +
        'SQL LIKE pattern; find is full text over event, insight and indicators; gt/gte/lt/lte compare ISO dates for ' +
        'date/createdAt. tags/mitreAttack/mitreCapec: equals/in = has the element, not = has no such element. Paging ' +
        'by page/pageSize (offset ≤ 100,000) or by the opaque cursor from result_info.cursor.',
      request: { params: z.object({ account_id: AccountParam }) },
      parameters: [
        queryParam(
          'datasetId',
          'Dataset uuids, or one of all, *, analytics, operational; default dataset when absent',
        ),
        queryParam('search', 'Conditions: search.field=…&search.op=…&search.value=… or a JSON array'),
        queryParam('page', '1-based page', { type: 'integer', minimum: 1 }),
        queryParam('pageSize', `Page size, at most ${MAX_PAGE_SIZE}`, {
          type: 'integer',
          minimum: 1,
          maximum: MAX_PAGE_SIZE,
        }),
        queryParam('cursor', 'Opaque cursor; only pageSize may be sent with it'),
        queryParam('order', 'asc or desc (default desc)'),
        queryParam('orderBy', 'Any scalar event field (default date); ties broken by uuid'),
        queryParam(
          'format',
          'json (default); stix2 answers a STIX 2.1 bundle, taxii a TAXII 2.1 envelope {more, next, objects} ' +
            '(application/taxii+json;version=2.1) whose next is the cursor of the following page',
        ),
        queryParam(
          'export',
          'all (with format=stix2 or taxii): stream every matching event in one answer, read by cursor as the client reads',
        ),
      ],
      responses: okResponses(z.array(ThreatEventSchema), 'One page of events', {
        resultInfo: ResultInfoSchema,
      }),
    }),
    async (c) => {
      const q = new QueryParams(c.req.url);
      const cursor = q.string('cursor');
      const format = parseFormat(q);
      const exportAll = parseExport(q, format);
      const unknown = q.unknown(LIST_PARAMS);
      if (unknown.length > 0)
        throw new ApiError('invalidInput', `unknown query parameter(s): ${unknown.join(', ')}`);
      const input = {
        cursor,
        datasetId: q.list('datasetId', 100),
        search: q.conditions('search', MAX_CONDITIONS),
        page: q.integer('page', { min: 1 }),
        pageSize: q.integer('pageSize', { min: 1, max: MAX_PAGE_SIZE }),
        order: q.string('order'),
        orderBy: q.string('orderBy'),
      };
      if (format !== 'json') {
        const ctx = c.get('ctx');
        const out = await exportEvents(ctx, input, {
          format,
          all: exportAll,
          bundleId: `bundle--${ctx.ids.uuid()}`,
        });
        const headers: Record<string, string> = {};
        if (out.cursor) headers['x-threatdesk-cursor'] = out.cursor;
        return stixResponse(format, out.stream, headers);
      }
      const { events, resultInfo } = await listEvents(c.get('ctx'), input);
      return reply(events, 200, resultInfo);
    },
  );

  register(
    app,
    createRoute({
      method: 'post',
      path: `${CF}/events/create`,
      tags,
      security: bearerSecurity,
      summary: 'Create an event (E02)',
      request: { params: z.object({ account_id: AccountParam }), body: jsonBody(EventInputSchema) },
      responses: okResponses(ThreatEventSchema, 'The new event'),
    }),
    async (c) => reply(await createEvent(c.get('ctx'), c.req.valid('json')), 200),
  );

  register(
    app,
    createRoute({
      method: 'post',
      path: `${CF}/events/create/bulk`,
      tags,
      security: bearerSecurity,
      summary: 'Create events in bulk (E03)',
      description:
        'Each item is validated on its own: valid items are stored, invalid ones are listed in errors[] with their ' +
        'eventIndex. Answers 202.',
      request: { params: z.object({ account_id: AccountParam }), body: jsonBody(BulkBody) },
      responses: okResponses(BulkResultSchema, 'Events stored', { status: 202 }),
    }),
    async (c) => reply(await bulkCreateEvents(c.get('ctx'), c.req.valid('json')), 202),
  );

  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/raw/{dataset_id}/{event_id}`,
      tags,
      security: bearerSecurity,
      summary: 'Raw payload of an event in a dataset (E19)',
      request: {
        params: z.object({ account_id: AccountParam, dataset_id: DatasetIdParam, event_id: EventIdParam }),
      },
      responses: okResponses(RawEventSchema, 'The raw payload'),
    }),
    async (c) => {
      const p = c.req.valid('param');
      return reply(await getRawInDataset(c.get('ctx'), p.dataset_id, p.event_id), 200);
    },
  );

  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/dataset/{dataset_id}/events/{event_id}`,
      tags,
      security: bearerSecurity,
      summary: 'Get an event in a dataset (E08)',
      request: {
        params: z.object({ account_id: AccountParam, dataset_id: DatasetIdParam, event_id: EventIdParam }),
      },
      responses: okResponses(ThreatEventSchema, 'The event'),
    }),
    async (c) => {
      const p = c.req.valid('param');
      return reply(await getEvent(c.get('ctx'), p.event_id, p.dataset_id), 200);
    },
  );
}

/** Routes with a bare `{event_id}` segment; registered after every literal `/events/…` path. */
export function eventByIdRoutes(app: OpenAPIHono<AppEnv>): void {
  const params = z.object({ account_id: AccountParam, event_id: EventIdParam });
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/{event_id}`,
      tags,
      security: bearerSecurity,
      summary: 'Get an event by uuid, in any dataset (E05, deprecated: use E08)',
      request: { params },
      responses: okResponses(ThreatEventSchema, 'The event'),
    }),
    async (c) => reply(await getEvent(c.get('ctx'), c.req.valid('param').event_id), 200),
  );
  for (const method of ['patch', 'post'] as const) {
    register(
      app,
      createRoute({
        method,
        path: `${CF}/events/{event_id}`,
        tags,
        security: bearerSecurity,
        summary: method === 'patch' ? 'Edit an event (E06)' : 'Edit an event (E07)',
        description:
          'Partial update: only the fields sent change. datasetId names the dataset that holds the event.',
        request: { params, body: jsonBody(EventEditSchema) },
        responses: okResponses(ThreatEventSchema, 'The edited event'),
      }),
      async (c) =>
        reply(await editEvent(c.get('ctx'), c.req.valid('param').event_id, c.req.valid('json')), 200),
    );
  }
  const rawParams = z.object({ account_id: AccountParam, event_id: EventIdParam, raw_id: RawIdParam });
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/{event_id}/raw/{raw_id}`,
      tags,
      security: bearerSecurity,
      summary: 'Raw payload of an event (E16)',
      request: { params: rawParams },
      responses: okResponses(RawEventSchema, 'The raw payload'),
    }),
    async (c) => {
      const p = c.req.valid('param');
      return reply(await getRaw(c.get('ctx'), p.event_id, p.raw_id), 200);
    },
  );
  for (const method of ['patch', 'post'] as const) {
    register(
      app,
      createRoute({
        method,
        path: `${CF}/events/{event_id}/raw/{raw_id}`,
        tags,
        security: bearerSecurity,
        summary: method === 'patch' ? 'Edit a raw payload (E17)' : 'Edit a raw payload (E18)',
        request: { params: rawParams, body: jsonBody(RawEditSchema) },
        responses: okResponses(
          z.object({ id: z.string(), data: z.unknown() }),
          'The raw payload id and its data',
        ),
      }),
      async (c) => {
        const p = c.req.valid('param');
        return reply(await editRaw(c.get('ctx'), p.event_id, p.raw_id, c.req.valid('json')), 200);
      },
    );
  }
}
