import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { execute, GraphQLError, parse, specifiedRules, validate } from 'graphql';
import { ApiError } from '../../domain/errors.ts';
import type { AppEnv } from '../auth.ts';
import { errorResponses } from '../envelope.ts';
import { type RouteContext, register } from '../route.ts';
import { AccountParam, CF } from '../schemas.ts';
import {
  costLimits,
  MAX_AGGREGATES,
  MAX_DEPTH,
  MAX_FIELDS,
  MAX_INTROSPECTION_DEPTH,
  schema,
} from './schema.ts';

const ErrorCode = { invalid: 1001 } as const;

const GraphqlBody = z
  .object({
    query: z.string().max(100_000).openapi({
      example:
        '{ aggregate(groupBy: [attacker, targetIndustry], interval: week, limit: 10) { total groups { attacker targetIndustry date count } } }',
    }),
    variables: z.record(z.string(), z.unknown()).nullable().optional(),
    operationName: z.string().nullable().optional(),
  })
  .openapi('GraphQLRequest');

const GraphqlResult = z.object({
  success: z.boolean(),
  errors: z.array(z.object({ code: z.number(), message: z.string() })),
  messages: z.array(z.unknown()),
  result: z.object({ data: z.unknown().nullable(), errors: z.array(z.unknown()).optional() }),
});

function answer(status: number, data: unknown, errors: readonly GraphQLError[]): Response {
  const body = {
    success: errors.length === 0,
    errors: errors.map((e) => ({ code: ErrorCode.invalid, message: e.message })),
    messages: [],
    result: { data, ...(errors.length ? { errors: errors.map((e) => e.toJSON()) } : {}) },
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=UTF-8' },
  });
}

/** The body is read by hand: the SDK sends none, and GraphQL errors have their own shape. */
async function handle(c: RouteContext<ReturnType<typeof route>>): Promise<Response> {
  const text = await c.req.text();
  let body: unknown;
  try {
    body = text.trim() === '' ? {} : JSON.parse(text);
  } catch (err) {
    throw new ApiError('malformedJson', `body: malformed JSON (${(err as Error).message})`);
  }
  const parsed = GraphqlBody.safeParse(body);
  if (!parsed.success) {
    return answer(400, null, [
      new GraphQLError('send a JSON body {"query": "...", "variables": {...}}: query is required'),
    ]);
  }
  let document: ReturnType<typeof parse>;
  try {
    document = parse(parsed.data.query);
  } catch (err) {
    return answer(400, null, [err as GraphQLError]);
  }
  const problems = validate(schema, document, [...specifiedRules, costLimits]);
  if (problems.length > 0) return answer(400, null, problems);
  const result = await execute({
    schema,
    document,
    contextValue: c.get('ctx'),
    variableValues: parsed.data.variables ?? undefined,
    operationName: parsed.data.operationName ?? undefined,
  });
  const errors = result.errors ?? [];
  // A domain error (bad filter, unknown dataset) keeps its own status when nothing resolved.
  const original = errors[0]?.originalError;
  const status = errors.length && !result.data ? (original instanceof ApiError ? original.status : 400) : 200;
  return answer(status, result.data ?? null, errors);
}

const route = (path: string, summary: string) =>
  createRoute({
    method: 'post',
    path,
    tags: ['Analytics'],
    security: [{ bearerAuth: [] }],
    summary,
    description:
      'GraphQL (graphql-js) over the same aggregation as GET /events/aggregate: group by any dimensions, date range, ' +
      'day/week/month buckets, filters, several datasets, top N, totals; several aggregates at once with aliases. ' +
      `Introspection works. Limits: depth ${MAX_DEPTH} (${MAX_INTROSPECTION_DEPTH} for introspection), ${MAX_FIELDS} fields, ` +
      `${MAX_AGGREGATES} aggregates per query. The answer is the v4 ` +
      'envelope with result {data, errors}.',
    request: {
      params: z.object({ account_id: AccountParam }),
      body: { content: { 'application/json': { schema: GraphqlBody } }, required: false },
    },
    responses: {
      200: { description: 'GraphQL result', content: { 'application/json': { schema: GraphqlResult } } },
      ...errorResponses,
    },
  });

/** E13 (seed path) and E14 (SDK path). */
export function graphqlRoutes(app: OpenAPIHono<AppEnv>): void {
  for (const [path, summary] of [
    [`${CF}/v2/events/graphql`, 'GraphQL aggregations (E13)'],
    [`${CF}/events/graphql`, 'GraphQL aggregations (E14)'],
  ] as const) {
    register(app, route(path, summary), handle);
  }
}
