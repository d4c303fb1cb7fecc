import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { AGG_DIMENSIONS, aggregateEvents, MAX_AGG_LIMIT } from '../../domain/analytics/aggregate.ts';
import { invalidInput } from '../../domain/errors.ts';
import { MAX_CONDITIONS } from '../../domain/events/search.ts';
import type { AppEnv } from '../auth.ts';
import { envelopeSchema, errorResponses, reply } from '../envelope.ts';
import { QueryParams } from '../query.ts';
import { register } from '../route.ts';
import { AccountParam, CF, queryParam } from '../schemas.ts';

const AggregateResultSchema = z
  .object({
    aggregateBy: z.string().openapi({ example: 'attacker,targetIndustry' }),
    aggregations: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.null()]))).openapi({
      example: [{ attacker: 'APT28', targetIndustry: 'Government', date: '2025-03-01', count: 42 }],
    }),
    total: z.number().openapi({ description: 'Events aggregated' }),
    groupCount: z.number().openapi({ description: 'Groups before limit' }),
    dateRange: z.object({ startDate: z.string().optional(), endDate: z.string().optional() }),
  })
  .openapi('AggregateResult');

/** E12. */
export function aggregateRoutes(app: OpenAPIHono<AppEnv>): void {
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/aggregate`,
      tags: ['Analytics'],
      security: [{ bearerAuth: [] }],
      summary: 'Aggregate events (E12)',
      description:
        `Exact counts grouped by one or more of ${AGG_DIMENSIONS.join(', ')} (lists count each element), over every ` +
        'event of the requested datasets — never sampled. Accepts the same search conditions as GET /events. Rows ' +
        'are ordered by count (then date, then values); total is the number of events aggregated.',
      request: { params: z.object({ account_id: AccountParam }) },
      parameters: [
        { ...queryParam('aggregateBy', 'Column or comma list'), required: true },
        queryParam(
          'datasetId',
          'Dataset uuids or one scope (all = every non-analytics dataset); default dataset',
        ),
        queryParam('startDate', 'ISO 8601 date or date-time, inclusive'),
        queryParam('endDate', 'ISO 8601; a date includes the whole day'),
        queryParam('groupByDate', 'Group per day as well (adds date)', { type: 'boolean' }),
        queryParam('interval', 'threatdesk: day (default with groupByDate), week or month'),
        queryParam('limit', `Rows, default 1000, at most ${MAX_AGG_LIMIT}`, { type: 'integer' }),
        queryParam('search', 'Conditions as on GET /events'),
      ],
      responses: {
        200: {
          description: 'Groups',
          content: { 'application/json': { schema: envelopeSchema(AggregateResultSchema) } },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const q = new QueryParams(c.req.url);
      const interval = q.string('interval');
      if (interval !== undefined && !['day', 'week', 'month'].includes(interval)) {
        throw invalidInput(`interval: day, week or month, got ${JSON.stringify(interval)}`);
      }
      const groupByDate = q.boolean('groupByDate') ?? false;
      return reply(
        await aggregateEvents(c.get('ctx'), {
          aggregateBy: q.list('aggregateBy', 10) ?? [],
          datasetIds: q.list('datasetId', 100),
          startDate: q.string('startDate'),
          endDate: q.string('endDate'),
          bucket: interval ? (interval as 'day' | 'week' | 'month') : groupByDate ? 'day' : 'none',
          limit: q.integer('limit', { min: 1, max: MAX_AGG_LIMIT }),
          search: q.conditions('search', MAX_CONDITIONS),
        }),
      );
    },
  );
}
