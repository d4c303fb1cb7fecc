import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { ApiError } from '../../domain/errors.ts';
import {
  aggregateIndicators,
  datasetIndicatorTags,
  getDatasetIndicator,
  indicatorTypes,
  listDatasetIndicators,
  listIndicators,
  MAX_INDICATOR_PAGE,
  tagIndicators,
} from '../../domain/indicators/indicators.ts';
import { bundle, collectObjects, taxiiEnvelope } from '../../domain/stix/export.ts';
import { indicatorObjects } from '../../domain/stix/objects.ts';
import type { AppEnv } from '../auth.ts';
import { bearerSecurity, okResponses, reply } from '../envelope.ts';
import { QueryParams } from '../query.ts';
import { register } from '../route.ts';
import { AccountParam, CF, DatasetIdParam, idParam, queryParam } from '../schemas.ts';
import { parseFormat, stixResponse } from '../stix/format.ts';

const tags = ['Indicators'];

const IndicatorSchema = z
  .object({
    uuid: z.string(),
    value: z.string().openapi({ example: 'evil.example' }),
    indicatorType: z.string().openapi({ example: 'domain' }),
    createdAt: z.string(),
    updatedAt: z.string(),
    datasetId: z.string(),
    sources: z
      .array(
        z.object({
          resourceId: z.string(),
          resourceType: z.string(),
          system: z.string(),
          title: z.string().nullable(),
        }),
      )
      .optional(),
    relatedEvents: z
      .array(z.object({ datasetId: z.string(), eventId: z.string(), eventDate: z.string().nullable() }))
      .optional(),
    relatedEventsHasMore: z.boolean().optional(),
    tags: z
      .array(
        z.object({
          categoryId: z.string().nullable(),
          categoryName: z.string().optional(),
          uuid: z.string(),
          value: z.string(),
        }),
      )
      .optional(),
    tlp: z.string().nullable(),
  })
  .openapi('Indicator');
const PagedSchema = z.object({
  indicators: z.array(IndicatorSchema),
  pagination: z.object({
    page: z.number(),
    pageSize: z.number(),
    totalCount: z.number(),
    totalPages: z.number(),
  }),
});
const Account = z.object({ account_id: AccountParam });
const TagParam = idParam('tag_uuid', 'Tag uuid');
const IndicatorParam = idParam('indicator_id', 'Indicator uuid');

const E54_FILTERS = [
  'datasetIds',
  'createdAfter',
  'createdBefore',
  'indicatorType',
  'name',
  'relatedEvents',
  'search',
  'tags',
  'tagSearch',
  'page',
  'pageSize',
  'includeTags',
  'relatedEventsLimit',
  'cache',
];

/** E54–E60 and E69/E70. Literal paths first; all before the bare `/events/{event_id}` routes. */
export function indicatorRoutes(app: OpenAPIHono<AppEnv>): void {
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/indicators`,
      tags,
      security: bearerSecurity,
      summary: 'List and search indicators (E54)',
      description:
        'Newest first (createdAt desc, then uuid). Filters are AND-ed. With a cursor (pagination.cursor) nothing ' +
        'else may be sent but includeTotalCount=false and format.',
      request: { params: Account },
      parameters: [
        queryParam(
          'datasetIds',
          'Dataset uuids or one scope (all, *, analytics, operational); default dataset when absent',
        ),
        queryParam('search', 'Conditions on value, indicatorType, uuid (≤ 10; in ≤ 100 values)'),
        queryParam('tags', 'Tag values or uuids; the indicator has at least one'),
        queryParam('tagSearch', 'Conditions on the tags (≤ 10)'),
        queryParam('createdAfter', 'ISO 8601, inclusive'),
        queryParam('createdBefore', 'ISO 8601, inclusive'),
        queryParam('indicatorType', 'Exact type'),
        queryParam('name', 'Substring of the value'),
        queryParam('relatedEvents', 'Linked to one of these events'),
        queryParam('relatedEventsLimit', 'Related events per indicator: default 2, 0 none, -1 all', {
          type: 'integer',
        }),
        queryParam('includeTags', 'Default true', { type: 'boolean' }),
        queryParam('includeTotalCount', 'Default false', { type: 'boolean' }),
        queryParam('page', '1-based', { type: 'integer' }),
        queryParam('pageSize', `At most ${MAX_INDICATOR_PAGE}`, { type: 'integer' }),
        queryParam('cursor', 'From pagination.cursor'),
        queryParam(
          'format',
          'json (default); stix2: a STIX 2.1 bundle of Indicator SDOs (next cursor in the x-threatdesk-cursor ' +
            'header); taxii: a TAXII 2.1 envelope {more, next, objects} (application/taxii+json;version=2.1)',
        ),
      ],
      responses: okResponses(
        z.object({
          indicators: z.array(IndicatorSchema),
          pagination: z.object({
            count: z.number(),
            cursor: z.string().nullable(),
            has_more: z.boolean(),
            page: z.number(),
            per_page: z.number(),
            total_count: z.number().nullable(),
            total_count_is_exact: z.boolean(),
          }),
          completeness: z.object({
            complete: z.boolean(),
            failedDatasets: z.array(z.string()),
            failedShards: z.array(z.object({ datasetId: z.string(), shardId: z.string() })),
            warnings: z.array(z.string()),
          }),
        }),
        'One page of indicators',
      ),
    }),
    async (c) => {
      const q = new QueryParams(c.req.url);
      const format = parseFormat(q);
      const cursor = q.string('cursor');
      if (cursor !== undefined) {
        const extra = E54_FILTERS.filter((n) => q.has(n));
        if (q.boolean('includeTotalCount') === true) extra.push('includeTotalCount=true');
        if (extra.length) {
          throw new ApiError(
            'cursorConflict',
            `CursorFilterConflictError: the cursor carries the filters; do not send ${extra.join(', ')} with it`,
          );
        }
      }
      const out = await listIndicators(c.get('ctx'), {
        cursor,
        datasetIds: q.list('datasetIds', 100),
        page: q.integer('page', { min: 1 }),
        pageSize: q.integer('pageSize', { min: 1, max: MAX_INDICATOR_PAGE }),
        createdAfter: q.string('createdAfter'),
        createdBefore: q.string('createdBefore'),
        includeTags: q.boolean('includeTags'),
        includeTotalCount: q.boolean('includeTotalCount'),
        indicatorType: q.string('indicatorType'),
        name: q.string('name'),
        relatedEvents: q.list('relatedEvents', 100),
        relatedEventsLimit: q.integer('relatedEventsLimit', { min: -1 }),
        search: q.conditions('search', 10),
        tags: q.list('tags', 100),
        tagSearch: q.conditions('tagSearch', 10),
      });
      if (format !== 'json') {
        const ctx = c.get('ctx');
        const objects = collectObjects(out.result.indicators.map((i) => indicatorObjects(ctx.accountId, i)));
        const next = out.result.pagination.cursor;
        if (format === 'taxii') return stixResponse(format, taxiiEnvelope(objects, next));
        return stixResponse(
          format,
          bundle(`bundle--${ctx.ids.uuid()}`, objects),
          next ? { 'x-threatdesk-cursor': next } : {},
        );
      }
      return reply(out.result, 200, undefined, out.messages);
    },
  );
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/indicators/aggregate`,
      tags,
      security: bearerSecurity,
      summary: 'Top indicator groups by count (E55)',
      request: { params: Account },
      parameters: [
        { ...queryParam('aggregateBy', 'indicatorType, value, or indicatorType,value'), required: true },
        queryParam('datasetIds', 'Default: every dataset of the account'),
        queryParam('measure', 'indicators (default) or relationships (indicator–event links)'),
        queryParam('limit', '1–100 (default 10)', { type: 'integer' }),
        queryParam('createdAfter', 'ISO 8601'),
        queryParam('createdBefore', 'ISO 8601'),
        queryParam('eventDateAfter', 'measure=relationships only'),
        queryParam('eventDateBefore', 'measure=relationships only'),
        queryParam('tagUuid', 'Only indicators of this tag'),
      ],
      responses: okResponses(
        z.object({
          aggregateBy: z.string(),
          aggregations: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.null()]))),
          failedDatasets: z.number(),
          total: z.number(),
        }),
        'Top groups',
      ),
    }),
    async (c) => {
      const q = new QueryParams(c.req.url);
      return reply(
        await aggregateIndicators(c.get('ctx'), {
          aggregateBy: q.string('aggregateBy'),
          datasetIds: q.list('datasetIds', 100),
          measure: q.string('measure'),
          limit: q.integer('limit', { min: 1, max: 100 }),
          createdAfter: q.string('createdAfter'),
          createdBefore: q.string('createdBefore'),
          eventDateAfter: q.string('eventDateAfter'),
          eventDateBefore: q.string('eventDateBefore'),
          tagUuid: q.string('tagUuid'),
        }),
      );
    },
  );
  for (const [path, summary] of [
    ['indicator-types', 'Indicator types in use (E56)'],
    ['indicatorTypes', 'Indicator types in use (E57, deprecated: use indicator-types)'],
  ] as const) {
    register(
      app,
      createRoute({
        method: 'get',
        path: `${CF}/events/${path}`,
        tags,
        security: bearerSecurity,
        summary,
        request: { params: Account },
        parameters: [queryParam('datasetIds', 'Default: every dataset of the account')],
        responses: okResponses(z.array(z.string()), 'Sorted type names'),
      }),
      async (c) =>
        reply(await indicatorTypes(c.get('ctx'), new QueryParams(c.req.url).list('datasetIds', 100))),
    );
  }
  const paged = [
    queryParam('indicatorType', 'Exact type'),
    queryParam('page', '1-based', { type: 'integer' }),
    queryParam('pageSize', `At most ${MAX_INDICATOR_PAGE}`, { type: 'integer' }),
    queryParam('relatedEvent', 'Linked to one of these events (repeat)'),
  ];
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/dataset/{dataset_id}/indicators`,
      tags,
      security: bearerSecurity,
      summary: 'Indicators of a dataset (E58, deprecated: use E54)',
      request: { params: z.object({ account_id: AccountParam, dataset_id: DatasetIdParam }) },
      parameters: [...paged, queryParam('name', 'Substring of the value')],
      responses: okResponses(PagedSchema, 'One page'),
    }),
    async (c) => {
      const q = new QueryParams(c.req.url);
      return reply(
        await listDatasetIndicators(c.get('ctx'), c.req.valid('param').dataset_id, {
          indicatorType: q.string('indicatorType'),
          name: q.string('name'),
          page: q.integer('page', { min: 1 }),
          pageSize: q.integer('pageSize', { min: 1, max: MAX_INDICATOR_PAGE }),
          relatedEvent: q.list('relatedEvent', 100),
        }),
      );
    },
  );
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/dataset/{dataset_id}/indicators/tags`,
      tags,
      security: bearerSecurity,
      summary: 'Tags used in a dataset (E60; not paginated)',
      request: { params: z.object({ account_id: AccountParam, dataset_id: DatasetIdParam }) },
      responses: okResponses(z.array(z.record(z.string(), z.unknown())), 'Tag rows'),
    }),
    async (c) => reply(await datasetIndicatorTags(c.get('ctx'), c.req.valid('param').dataset_id)),
  );
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/dataset/{dataset_id}/indicators/{indicator_id}`,
      tags,
      security: bearerSecurity,
      summary: 'One indicator of a dataset (E59)',
      request: {
        params: z.object({
          account_id: AccountParam,
          dataset_id: DatasetIdParam,
          indicator_id: IndicatorParam,
        }),
      },
      responses: okResponses(IndicatorSchema, 'The indicator'),
    }),
    async (c) => {
      const p = c.req.valid('param');
      return reply(await getDatasetIndicator(c.get('ctx'), p.dataset_id, p.indicator_id));
    },
  );
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/tags/{tag_uuid}/indicators`,
      tags,
      security: bearerSecurity,
      summary: 'Indicators of a tag (E69)',
      description:
        'Indicators linked to events carrying the tag, over every dataset of the account unless datasetIds scopes it.',
      request: { params: z.object({ account_id: AccountParam, tag_uuid: TagParam }) },
      parameters: [
        ...paged,
        queryParam('datasetIds', 'Dataset uuids or one scope'),
        queryParam('search', 'Conditions on value, indicatorType'),
      ],
      responses: okResponses(PagedSchema, 'One page'),
    }),
    async (c) => {
      const q = new QueryParams(c.req.url);
      return reply(
        await tagIndicators(c.get('ctx'), c.req.valid('param').tag_uuid, {
          datasetIds: q.list('datasetIds', 100),
          indicatorType: q.string('indicatorType'),
          page: q.integer('page', { min: 1 }),
          pageSize: q.integer('pageSize', { min: 1, max: MAX_INDICATOR_PAGE }),
          relatedEvent: q.list('relatedEvent', 100),
          search: q.conditions('search', 10),
        }),
      );
    },
  );
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/dataset/{dataset_id}/tags/{tag_uuid}/indicators`,
      tags,
      security: bearerSecurity,
      summary: 'Indicators of a tag in one dataset (E70, deprecated: use E69 with datasetIds)',
      request: {
        params: z.object({ account_id: AccountParam, dataset_id: DatasetIdParam, tag_uuid: TagParam }),
      },
      parameters: [...paged, queryParam('search', 'Conditions on value, indicatorType')],
      responses: okResponses(PagedSchema, 'One page'),
    }),
    async (c) => {
      const q = new QueryParams(c.req.url);
      const p = c.req.valid('param');
      return reply(
        await tagIndicators(c.get('ctx'), p.tag_uuid, {
          datasetId: p.dataset_id,
          indicatorType: q.string('indicatorType'),
          page: q.integer('page', { min: 1 }),
          pageSize: q.integer('pageSize', { min: 1, max: MAX_INDICATOR_PAGE }),
          relatedEvent: q.list('relatedEvent', 100),
          search: q.conditions('search', 10),
        }),
      );
    },
  );
}
