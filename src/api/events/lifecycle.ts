import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { getBookmark, revertDataset } from '../../domain/datasets/revert.ts';
import { ApiError, invalidInput } from '../../domain/errors.ts';
import { deleteEvents, moveEvents } from '../../domain/events/lifecycle.ts';
import type { RawCondition } from '../../domain/events/search.ts';
import type { AppEnv } from '../auth.ts';
import { bearerSecurity, envelopeSchema, errorResponses, reply } from '../envelope.ts';
import { QueryParams } from '../query.ts';
import { register } from '../route.ts';
import { AccountParam, CF, DatasetIdParam, queryParam } from '../schemas.ts';

const tags = ['Dataset lifecycle'];
const params = z.object({ account_id: AccountParam, dataset_id: DatasetIdParam });
const count = (description: string) => ({
  200: { description, content: { 'application/json': { schema: envelopeSchema(z.number().int()) } } },
  ...errorResponses,
});

const DeleteBody = z
  .object({
    eventIds: z
      .array(z.string().min(1).max(64))
      .max(10_000)
      .optional()
      .openapi({ description: 'Events to delete' }),
    search: z
      .array(z.object({ field: z.string(), op: z.string().optional(), value: z.unknown() }))
      .max(20)
      .optional()
      .openapi({ description: 'Delete every event matching these conditions (as on GET /events)' }),
    confirm: z.boolean().optional().openapi({ description: 'Required with search' }),
  })
  .openapi('DeleteEventsBody');

/** E09, E10. */
export function lifecycleRoutes(app: OpenAPIHono<AppEnv>): void {
  register(
    app,
    createRoute({
      method: 'post',
      path: `${CF}/events/dataset/{dataset_id}/move`,
      tags,
      security: bearerSecurity,
      summary: 'Move events to another dataset (E09)',
      description:
        'Moves the events with their raw payloads, indicator links, tags and relationships. Unknown ids are a 400 ' +
        'listing them, and nothing moves. Answers the number moved.',
      request: {
        params,
        body: {
          content: {
            'application/json': {
              schema: z
                .object({
                  eventIds: z.array(z.string().min(1).max(64)).min(1).max(10_000),
                  targetDatasetId: z.string().min(1).max(64),
                })
                .openapi('MoveEventsBody'),
            },
          },
          required: true,
        },
      },
      responses: count('Number of events moved'),
    }),
    async (c) => reply(await moveEvents(c.get('ctx'), c.req.valid('param').dataset_id, c.req.valid('json'))),
  );
  register(
    app,
    createRoute({
      method: 'delete',
      path: `${CF}/events/{dataset_id}/delete`,
      tags,
      security: bearerSecurity,
      summary: 'Delete events (E10)',
      description:
        'Body {"eventIds": [...]} (or eventIds query parameters), or {"search": [...], "confirm": true} to delete ' +
        'every matching event. Unknown ids are a 400 and nothing is deleted. Answers the number deleted.',
      request: { params },
      parameters: [queryParam('eventIds', 'Events to delete (repeat or comma list)')],
      responses: count('Number of events deleted'),
    }),
    async (c) => {
      const text = await c.req.text();
      let body: z.infer<typeof DeleteBody> = {};
      if (text.trim() !== '') {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch (err) {
          throw new ApiError('malformedJson', `body: malformed JSON (${(err as Error).message})`);
        }
        const parsed = DeleteBody.safeParse(json);
        if (!parsed.success)
          throw invalidInput(parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`));
        body = parsed.data;
      }
      const fromQuery = new QueryParams(c.req.url).list('eventIds', 10_000);
      return reply(
        await deleteEvents(c.get('ctx'), c.req.valid('param').dataset_id, {
          eventIds: body.eventIds ?? fromQuery,
          search: body.search as RawCondition[] | undefined,
          confirm: body.confirm,
        }),
      );
    },
  );
}

/** E11 and the bookmark it reads. */
export function revertRoutes(app: OpenAPIHono<AppEnv>): void {
  const RevertResult = z
    .object({
      datasetId: z.string(),
      minutesAgo: z.number(),
      targetTimestamp: z.string(),
      revertBookmark: z.string(),
      undoBookmark: z.string().openapi({ description: 'Revert to this bookmark to undo the revert' }),
      eventsChanged: z.number(),
    })
    .openapi('RevertResult');
  register(
    app,
    createRoute({
      method: 'post',
      path: `${CF}/events/{dataset_id}/revert-do`,
      tags,
      security: bearerSecurity,
      summary: 'Revert a dataset to a point in time (E11)',
      description:
        'Body: exactly one of {"minutesAgo": n}, {"targetTimestamp": iso} or {"revertBookmark": b}. Every shard of ' +
        'the dataset returns to its exact state at that moment. The answer carries an undoBookmark: revert to it to ' +
        'undo this revert. The window is THREATDESK_REVERT_WINDOW_DAYS (default 30).',
      request: {
        params,
        body: {
          content: {
            'application/json': {
              schema: z
                .object({
                  minutesAgo: z.number().min(0).optional(),
                  targetTimestamp: z.string().max(64).optional(),
                  revertBookmark: z.string().max(65_536).optional(),
                })
                .openapi('RevertBody'),
            },
          },
          required: true,
        },
      },
      responses: {
        200: {
          description: 'Reverted',
          content: { 'application/json': { schema: envelopeSchema(RevertResult) } },
        },
        ...errorResponses,
      },
    }),
    async (c) =>
      reply(await revertDataset(c.get('ctx'), c.req.valid('param').dataset_id, c.req.valid('json'))),
  );
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/{dataset_id}/bookmark`,
      tags,
      security: bearerSecurity,
      summary: "Bookmark of a dataset's current state (for E11)",
      request: { params },
      responses: {
        200: {
          description: 'The bookmark',
          content: {
            'application/json': {
              schema: envelopeSchema(
                z.object({ datasetId: z.string(), bookmark: z.string(), timestamp: z.string() }),
              ),
            },
          },
        },
        ...errorResponses,
      },
    }),
    async (c) => reply(await getBookmark(c.get('ctx'), c.req.valid('param').dataset_id)),
  );
}
