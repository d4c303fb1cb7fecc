import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { ApiError, invalidInput } from '../../domain/errors.ts';
import {
  addEventTags,
  bulkCreateWithRelationships,
  createRelationships,
  relatedEvents,
  relateEvents,
  removeEventTags,
  unrelateEvents,
} from '../../domain/events/links.ts';
import { expandGraph } from '../../domain/graph/graph.ts';
import type { AppEnv } from '../auth.ts';
import { bearerSecurity, jsonBody, okResponses, reply } from '../envelope.ts';
import { QueryParams } from '../query.ts';
import { register } from '../route.ts';
import {
  AccountParam,
  CF,
  EventIdParam,
  queryParam,
  ResultInfoSchema,
  ThreatEventSchema,
} from '../schemas.ts';

const tags = ['Event links'];
const Success = z.object({ success: z.boolean() });
const params = z.object({ account_id: AccountParam, event_id: EventIdParam });
const uuidList = (what: string) =>
  z.array(z.string().min(1).max(64)).max(1000).openapi({ description: what });

/**
 * The optional JSON body of a DELETE (the SDK sends none): `{ [field]: string[] }`, else the
 * `field` query parameters, else undefined (meaning "all").
 */
async function listFromBodyOrQuery(req: Request, field: string): Promise<string[] | undefined> {
  const text = await req.text();
  if (text.trim() !== '') {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new ApiError('malformedJson', `body: malformed JSON (${(err as Error).message})`);
    }
    const list = (body as Record<string, unknown> | null)?.[field];
    if (list === undefined) return undefined;
    if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) {
      throw invalidInput(`${field}: expected an array of strings`);
    }
    return list as string[];
  }
  return new QueryParams(req.url).list(field, 1000);
}

/** E21–E25 (literal paths) — registered before the bare `{event_id}` routes. */
export function eventLinkRoutes(app: OpenAPIHono<AppEnv>): void {
  register(
    app,
    createRoute({
      method: 'post',
      path: `${CF}/events/relationships/create`,
      tags,
      security: bearerSecurity,
      summary: 'Create parent→child relationships (E21)',
      description:
        'Each child succeeds or fails on its own; failures are listed in errors[] with errorType not_found, ' +
        'self_relationship, cycle or duplicate. relationshipType defaults to related_to.',
      request: {
        params: z.object({ account_id: AccountParam }),
        body: jsonBody(
          z
            .object({
              parentId: z.string().min(1).max(64),
              parentDatasetId: z.string().max(64).optional(),
              childIds: uuidList('Child event uuids'),
              childDatasetId: z.string().max(64).optional(),
              relationshipType: z.string().max(64).optional().openapi({ example: 'caused_by' }),
            })
            .openapi('RelationshipsCreate'),
        ),
      },
      responses: okResponses(
        z.object({
          childIds: z.array(z.string()),
          errors: z.array(z.object({ childId: z.string(), error: z.string(), errorType: z.string() })),
          message: z.string(),
          relationships: z.array(
            z.object({
              childDatasetId: z.string(),
              childId: z.string(),
              parentDatasetId: z.string(),
              parentId: z.string(),
              relationshipType: z.string(),
            }),
          ),
          relationshipsCreated: z.number(),
          success: z.boolean(),
        }),
        'What was created and what failed',
      ),
    }),
    async (c) => reply(await createRelationships(c.get('ctx'), c.req.valid('json'))),
  );
  register(
    app,
    createRoute({
      method: 'post',
      path: `${CF}/events/relate/{event_id}/create`,
      tags,
      security: bearerSecurity,
      summary: 'Make an event reference other events (E22)',
      request: {
        params,
        body: jsonBody(
          z.object({ eventIds: uuidList('Events to reference, any dataset') }).openapi('RelateBody'),
        ),
      },
      responses: okResponses(Success, 'Done'),
    }),
    async (c) =>
      reply(await relateEvents(c.get('ctx'), c.req.valid('param').event_id, c.req.valid('json').eventIds)),
  );
  register(
    app,
    createRoute({
      method: 'delete',
      path: `${CF}/events/relate/{event_id}`,
      tags,
      security: bearerSecurity,
      summary: 'Remove references of an event (E23)',
      description:
        'Removes the references named in a JSON body {"eventIds": [...]} or in eventIds query parameters; all of them when neither is given.',
      request: { params },
      parameters: [queryParam('eventIds', 'Referenced events to remove (repeat or comma list)')],
      responses: okResponses(Success, 'Done'),
    }),
    async (c) =>
      reply(
        await unrelateEvents(
          c.get('ctx'),
          c.req.valid('param').event_id,
          await listFromBodyOrQuery(c.req.raw, 'eventIds'),
        ),
      ),
  );
  register(
    app,
    createRoute({
      method: 'post',
      path: `${CF}/events/event_tag/{event_id}/create`,
      tags,
      security: bearerSecurity,
      summary: 'Add tags to an event (E24)',
      description: 'Tags the account does not have yet are created.',
      request: {
        params,
        body: jsonBody(
          z
            .object({
              tags: z
                .array(z.string().min(1).max(256))
                .max(100)
                .openapi({ example: ['botnet'] }),
            })
            .openapi('EventTagsBody'),
        ),
      },
      responses: okResponses(Success, 'Done'),
    }),
    async (c) =>
      reply(await addEventTags(c.get('ctx'), c.req.valid('param').event_id, c.req.valid('json').tags)),
  );
  register(
    app,
    createRoute({
      method: 'delete',
      path: `${CF}/events/event_tag/{event_id}`,
      tags,
      security: bearerSecurity,
      summary: 'Remove tags from an event (E25)',
      description:
        'Removes the tags named in a JSON body {"tags": [...]} or in tags query parameters; all of the event\'s tags when neither is given.',
      request: { params },
      parameters: [queryParam('tags', 'Tags to remove (repeat or comma list)')],
      responses: okResponses(Success, 'Done'),
    }),
    async (c) =>
      reply(
        await removeEventTags(
          c.get('ctx'),
          c.req.valid('param').event_id,
          await listFromBodyOrQuery(c.req.raw, 'tags'),
        ),
      ),
  );
}

/** E20, under a bare `{event_id}` path. */
export function relatedEventsRoute(app: OpenAPIHono<AppEnv>): void {
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/{event_id}/relationships`,
      tags,
      security: bearerSecurity,
      summary: 'Events related to an event (E20)',
      description:
        'Breadth first over relationships up to maxDepth; cycles never loop; nearest events first.',
      request: { params },
      parameters: [
        { ...queryParam('datasetId', 'Dataset that holds the event'), required: true },
        queryParam('direction', 'ancestors, descendants or both (default)'),
        queryParam('includeParent', 'Include the starting event (default true)', { type: 'boolean' }),
        queryParam('indicatorTypeIds', 'Only events whose indicatorTypeId is listed'),
        queryParam('maxDepth', 'Default 5, at most 20', { type: 'integer' }),
        queryParam('relationshipTypes', 'Only these relationship types'),
        queryParam('page', '1-based page', { type: 'integer' }),
        queryParam('pageSize', 'Default 100, at most 1000', { type: 'integer' }),
      ],
      responses: okResponses(z.array(ThreatEventSchema), 'Related events', { resultInfo: ResultInfoSchema }),
    }),
    async (c) => {
      const q = new QueryParams(c.req.url);
      const datasetId = q.string('datasetId');
      if (!datasetId) throw invalidInput('datasetId: required (the dataset that holds the event)');
      const direction = q.string('direction');
      if (direction !== undefined && !['ancestors', 'descendants', 'both'].includes(direction)) {
        throw invalidInput(
          `direction: must be ancestors, descendants or both, got ${JSON.stringify(direction)}`,
        );
      }
      const { events, resultInfo } = await relatedEvents(c.get('ctx'), c.req.valid('param').event_id, {
        datasetId,
        direction: direction as 'ancestors' | 'descendants' | 'both' | undefined,
        includeParent: q.boolean('includeParent'),
        indicatorTypeIds: q.list('indicatorTypeIds', 100),
        maxDepth: q.integer('maxDepth', { min: 0, max: 20 }),
        relationshipTypes: q.list('relationshipTypes', 20),
        page: q.integer('page', { min: 1 }),
        pageSize: q.integer('pageSize', { min: 1, max: 1000 }),
      });
      return reply(events, 200, resultInfo);
    },
  );
}

/** E04 and E15 (literal paths). */
export function bulkRelationshipAndGraphRoutes(app: OpenAPIHono<AppEnv>): void {
  register(
    app,
    createRoute({
      method: 'post',
      path: `${CF}/events/create/bulk/relationships`,
      tags,
      security: bearerSecurity,
      summary: 'Bulk create events with relationships (E04, deprecated: use E03)',
      description:
        'Like E03; an item may also carry parentIndex (the index of its parent in data) and relationshipType ' +
        '(default related_to) to relate events of the same request.',
      request: {
        params: z.object({ account_id: AccountParam }),
        body: jsonBody(
          z
            .object({ datasetId: z.string().min(1).max(64), data: z.array(z.unknown()).min(1) })
            .openapi('BulkRelationshipsBody'),
        ),
      },
      responses: okResponses(
        z.object({
          createdEventsCount: z.number(),
          createdIndicatorsCount: z.number(),
          createdRelationshipsCount: z.number(),
          errorCount: z.number(),
          errors: z.array(z.object({ error: z.string(), eventIndex: z.number() })).optional(),
        }),
        'Counts of what was created',
      ),
    }),
    async (c) => reply(await bulkCreateWithRelationships(c.get('ctx'), c.req.valid('json'))),
  );
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/graph`,
      tags: ['Graph'],
      security: bearerSecurity,
      summary: 'Neighbourhood of seed nodes (E15)',
      description:
        'One step around 1–50 seeds (event:<uuid>, indicator:<uuid>, tag:<uuid>). Edges: tagged_with (event→tag), ' +
        'appears_in (indicator→event), related_to and caused_by (event→event), attributed_to (event→actor tag).',
      request: { params: z.object({ account_id: AccountParam }) },
      parameters: [
        { ...queryParam('seeds', 'type:uuid, 1 to 50 (repeat or comma list)'), required: true },
        queryParam('direction', 'out, in or both (default)'),
        queryParam('expand', 'nodes: hydrate nodes with their fields'),
        queryParam('limit', 'Neighbours per seed, default 100, at most 1000', { type: 'integer' }),
        queryParam('max_nodes', 'Total nodes, default 500, at most 1000', { type: 'integer' }),
        queryParam('relationshipTypes', 'Only these edge types'),
        queryParam('datasetIds', 'Dataset uuids or one scope; default every dataset'),
        queryParam('cursor', 'Next page of neighbours; only with one seed'),
      ],
      responses: okResponses(
        z.object({
          edges: z.array(
            z.object({
              id: z.string(),
              relationshipType: z.string(),
              source: z.string(),
              sourceId: z.string(),
              sourceType: z.string(),
              target: z.string(),
              targetId: z.string(),
              targetType: z.string(),
            }),
          ),
          node: z.record(z.string(), z.unknown()).nullable(),
          nodes: z.array(z.record(z.string(), z.unknown())),
          cursor: z.string().optional(),
        }),
        'Edges and nodes',
      ),
    }),
    async (c) => {
      const q = new QueryParams(c.req.url);
      const limit = q.integer('limit');
      const maxNodes = q.integer('max_nodes');
      if (limit !== undefined && limit > 1000) throw invalidInput(`limit: at most 1000, got ${limit}`);
      if (maxNodes !== undefined && maxNodes > 1000)
        throw invalidInput(`max_nodes: at most 1000, got ${maxNodes}`);
      return reply(
        await expandGraph(c.get('ctx'), {
          seeds: q.list('seeds', 51),
          cursor: q.string('cursor'),
          datasetIds: q.list('datasetIds', 100),
          direction: q.string('direction'),
          expand: q.list('expand', 5),
          limit,
          maxNodes,
          relationshipTypes: q.list('relationshipTypes', 10),
        }),
      );
    },
  );
}
