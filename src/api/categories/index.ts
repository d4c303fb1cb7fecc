import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import {
  createEventCategory,
  deleteEventCategory,
  EventCategoryCreateSchema,
  EventCategoryEditSchema,
  editEventCategory,
  eventCategoryCatalog,
  getEventCategory,
  listEventCategories,
} from '../../domain/categories/categories.ts';
import type { AppEnv } from '../auth.ts';
import { bearerSecurity, jsonBody, okResponses, reply } from '../envelope.ts';
import { QueryParams } from '../query.ts';
import { register } from '../route.ts';
import { AccountParam, CF, idParam, queryParam } from '../schemas.ts';

const tags = ['Event categories'];

const CategoryIdParam = idParam('category_id', 'Event category UUID');

const EventCategorySchema = z
  .object({
    uuid: z.string(),
    name: z.string().openapi({ example: 'Initial Access' }),
    killChain: z.number().openapi({ description: 'Lockheed Martin kill chain phase (1–7)', example: 3 }),
    mitreAttack: z.array(z.string()).openapi({ example: ['T1566', 'T1190'] }),
    mitreCapec: z.array(z.string()),
    shortname: z.string().optional().openapi({ example: 'initial-access' }),
  })
  .openapi('EventCategory');

const account = z.object({ account_id: AccountParam });
const byId = z.object({ account_id: AccountParam, category_id: CategoryIdParam });

/** Registers E48–E53. Literal paths (catalog, create) come before `{category_id}`. */
export function eventCategoryRoutes(app: OpenAPIHono<AppEnv>): void {
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/categories`,
      tags,
      security: bearerSecurity,
      summary: "List the account's event categories (E48)",
      request: { params: account },
      parameters: [queryParam('datasetIds', 'Dataset uuids (checked); default dataset when absent')],
      responses: okResponses(z.array(EventCategorySchema), 'The categories, by name', {
        conflict: 'An event category with this name exists',
      }),
    }),
    (c) =>
      reply(listEventCategories(c.get('ctx'), { datasetIds: new QueryParams(c.req.url).list('datasetIds') })),
  );
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/categories/catalog`,
      tags,
      security: bearerSecurity,
      summary: 'The built-in event category catalog (E53)',
      description:
        'The 7 Lockheed Martin kill chain phases (killChain = phase order) and the 14 MITRE ATT&CK Enterprise ' +
        "tactics (mitreAttack = the tactic's techniques). An event whose category matches one by name or " +
        'shortname takes its killChain and mitreAttack unless the event gives its own.',
      request: { params: account },
      responses: okResponses(z.array(EventCategorySchema), 'The catalog', {
        conflict: 'An event category with this name exists',
      }),
    }),
    () => reply(eventCategoryCatalog()),
  );
  register(
    app,
    createRoute({
      method: 'post',
      path: `${CF}/events/categories/create`,
      tags,
      security: bearerSecurity,
      summary: 'Create an event category (E49)',
      description: 'mitreAttack ids must be ATT&CK Enterprise technique or sub-technique ids.',
      request: { params: account, body: jsonBody(EventCategoryCreateSchema) },
      responses: okResponses(EventCategorySchema, 'The new category', {
        conflict: 'An event category with this name exists',
      }),
    }),
    (c) => reply(createEventCategory(c.get('ctx'), c.req.valid('json'))),
  );
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/categories/{category_id}`,
      tags,
      security: bearerSecurity,
      summary: 'Get an event category (E50)',
      description: 'A category of the account, or of the catalog.',
      request: { params: byId },
      responses: okResponses(EventCategorySchema, 'The category', {
        conflict: 'An event category with this name exists',
      }),
    }),
    (c) => reply(getEventCategory(c.get('ctx'), c.req.valid('param').category_id)),
  );
  register(
    app,
    createRoute({
      method: 'patch',
      path: `${CF}/events/categories/{category_id}`,
      tags,
      security: bearerSecurity,
      summary: 'Edit an event category (E51)',
      description: 'Catalog categories cannot be edited (400).',
      request: { params: byId, body: jsonBody(EventCategoryEditSchema) },
      responses: okResponses(EventCategorySchema, 'The edited category', {
        conflict: 'An event category with this name exists',
      }),
    }),
    (c) => reply(editEventCategory(c.get('ctx'), c.req.valid('param').category_id, c.req.valid('json'))),
  );
  register(
    app,
    createRoute({
      method: 'delete',
      path: `${CF}/events/categories/{category_id}`,
      tags,
      security: bearerSecurity,
      summary: 'Delete an event category (E52)',
      request: { params: byId },
      responses: okResponses(z.object({ uuid: z.string() }), 'The deleted category', {
        conflict: 'An event category with this name exists',
      }),
    }),
    (c) => reply(deleteEventCategory(c.get('ctx'), c.req.valid('param').category_id)),
  );
}
