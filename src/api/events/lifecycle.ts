import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { ApiError, invalidInput } from '../../domain/errors.ts';
import { deleteEvents, moveEvents } from '../../domain/events/lifecycle.ts';
import type { RawCondition } from '../../domain/events/search.ts';
import type { AppEnv } from '../auth.ts';
import { envelopeSchema, errorResponses, reply } from '../envelope.ts';
import { QueryParams } from '../query.ts';
import { register } from '../route.ts';
import { AccountParam, CF, DatasetIdParam, queryParam } from '../schemas.ts';

const security = [{ bearerAuth: [] }];
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
      security,
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
      security,
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
