import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import {
  createQueryAlert,
  deleteQueryAlert,
  editQueryAlert,
  FREQUENCIES,
  getQueryAlert,
  listAlertDeliveries,
  listQueryAlerts,
  NOTIFICATION_TYPES,
} from '../../domain/queries/alerts.ts';
import {
  createSavedQuery,
  deleteSavedQuery,
  editSavedQuery,
  getSavedQuery,
  listSavedQueries,
} from '../../domain/queries/queries.ts';
import type { AppEnv } from '../auth.ts';
import { bearerSecurity, errorResponses, jsonBody, okResponses, reply } from '../envelope.ts';
import { QueryParams } from '../query.ts';
import { register } from '../route.ts';
import { AccountParam, CF, queryParam } from '../schemas.ts';

const Empty = z.object({}).openapi({ description: 'Empty' });

const numericIdParam = (name: string, description: string) =>
  z
    .string()
    .regex(/^[1-9]\d{0,14}$/, 'must be a positive integer')
    .openapi({ param: { name, in: 'path' }, description, example: '1' });
const QueryIdParam = numericIdParam('query_id', 'Saved query id');
const AlertIdParam = numericIdParam('alert_id', 'Alert id');

const QUERY_JSON_DESCRIPTION =
  'JSON text of events-list (E01) parameters: an object with optional datasetId (string or string[]), ' +
  'search ([{field, op, value}], at most 18), order, orderBy and pageSize';

const SavedQuerySchema = z
  .object({
    id: z.number().int().openapi({ description: 'Unique identifier for the saved query', example: 1 }),
    account_id: z.number().int().openapi({ description: 'A stable number derived from the account id' }),
    name: z.string().openapi({ example: 'Phishing in finance' }),
    query_json: z.string().openapi({ description: QUERY_JSON_DESCRIPTION }),
    alert_enabled: z.boolean(),
    alert_rollup_enabled: z.boolean(),
    rule_enabled: z.boolean(),
    rule_scope: z.string().optional(),
    created_at: z.string().openapi({ example: '2026-01-15T12:00:00.000Z' }),
    updated_at: z.string(),
    user_email: z.string().openapi({ description: 'Email of the token that created it ("" when none)' }),
    custom_threat_feed_id: z.number().nullable(),
    rule_list_id: z.string().optional(),
  })
  .openapi('SavedQuery');

const SavedQueryBody = z
  .object({
    name: z
      .string()
      .min(1)
      .max(256)
      .openapi({ description: 'Unique name for the saved query in the account' }),
    query_json: z.string().min(2).max(65_536).openapi({
      description: QUERY_JSON_DESCRIPTION,
      example: '{"search":[{"field":"tlp","op":"equals","value":"red"}]}',
    }),
    alert_enabled: z.boolean().openapi({ description: 'Alerts on this query deliver only while true' }),
    alert_rollup_enabled: z
      .boolean()
      .openapi({ description: 'true: one alert message per run with every new event; false: one per event' }),
    rule_enabled: z.boolean(),
    rule_scope: z.string().max(256).optional(),
    custom_threat_feed_id: z.number().int().nullable().optional(),
    rule_list_id: z.string().max(256).optional(),
  })
  .openapi('SavedQueryBody');
const SavedQueryEditBody = SavedQueryBody.partial().openapi('SavedQueryEditBody');

const QueryAlertSchema = z
  .object({
    id: z.number().int(),
    account_id: z.number().int(),
    query_id: z.number().int(),
    notification_type: z.enum(NOTIFICATION_TYPES),
    frequency: z.enum(FREQUENCIES),
    enabled: z.boolean(),
    webhook_url: z.string().nullable(),
    has_webhook_secret: z.boolean().openapi({ description: 'The secret itself is never answered' }),
    recipient: z.string().nullable().openapi({ description: 'Email recipient (email alerts)' }),
    user_email: z.string(),
    last_sent_at: z.string().nullable().openapi({ description: 'Time of the last successful delivery' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('QueryAlert');

const QueryAlertBody = z
  .object({
    query_id: z.number().int().positive().openapi({ description: 'The saved query to alert on' }),
    notification_type: z.enum(NOTIFICATION_TYPES),
    frequency: z.enum(FREQUENCIES).optional().openapi({
      description:
        'immediate: every scheduler tick; hourly, daily, weekly: one run per period. Default immediate',
    }),
    enabled: z.boolean().optional().openapi({ description: 'Default true' }),
    webhook_url: z.string().max(2048).nullable().optional().openapi({
      description: 'http or https URL; required for webhook alerts',
      example: 'https://hooks.example/td',
    }),
    webhook_secret: z.string().min(1).max(1024).nullable().optional().openapi({
      description:
        'Signs each webhook body: X-Threatdesk-Signature: sha256=<hex HMAC-SHA256 of the body>. Never answered',
    }),
    recipient: z
      .string()
      .max(320)
      .nullable()
      .optional()
      .openapi({ description: "Email recipient; default the API token's email" }),
  })
  .openapi('QueryAlertBody');
const QueryAlertEditBody = QueryAlertBody.partial().openapi('QueryAlertEditBody');

const DeliverySchema = z
  .object({
    id: z.number().int(),
    created_at: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    event_count: z.number().int(),
    event_uuids: z.array(z.string()),
    error: z.string().nullable().openapi({ description: 'The error of the last failed attempt' }),
    idempotency_key: z
      .string()
      .openapi({ description: 'Sent as the Idempotency-Key header; the same on every retry' }),
    delivered_at: z.string().nullable(),
  })
  .openapi('AlertDelivery');

const account = z.object({ account_id: AccountParam });
const byQuery = z.object({ account_id: AccountParam, query_id: QueryIdParam });
const byAlert = z.object({ account_id: AccountParam, alert_id: AlertIdParam });

/** Registers E32–E37 and the delivery log. Literal paths: register before the saved-query routes. */
export function queryAlertRoutes(app: OpenAPIHono<AppEnv>): void {
  const tags = ['Query alerts'];
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/queries/alerts`,
      tags,
      security: bearerSecurity,
      summary: 'List query alerts (E32)',
      request: { params: account },
      responses: okResponses(z.array(QueryAlertSchema), 'Every alert of the account'),
    }),
    (c) => reply(listQueryAlerts(c.get('ctx'))),
  );
  register(
    app,
    createRoute({
      method: 'post',
      path: `${CF}/events/queries/alerts/create`,
      tags,
      security: bearerSecurity,
      summary: 'Create a query alert (E33)',
      request: { params: account, body: jsonBody(QueryAlertBody) },
      responses: okResponses(QueryAlertSchema, 'The new alert'),
    }),
    (c) => reply(createQueryAlert(c.get('ctx'), c.req.valid('json'))),
  );
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/queries/alerts/{alert_id}/deliveries`,
      tags,
      security: bearerSecurity,
      summary: "An alert's delivery log (threatdesk extension)",
      description:
        'The messages of the alert, newest first: each with its status (pending, delivered, failed), attempts, ' +
        'event count and the idempotency key it is sent with.',
      request: { params: byAlert },
      parameters: [
        queryParam('limit', 'At most this many messages (1–1000, default 100)', { type: 'integer' }),
      ],
      responses: okResponses(z.array(DeliverySchema), 'The delivery log'),
    }),
    (c) => {
      const limit = new QueryParams(c.req.url).integer('limit', { min: 1, max: 1000 }) ?? 100;
      return reply(listAlertDeliveries(c.get('ctx'), Number(c.req.valid('param').alert_id), limit));
    },
  );
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/queries/alerts/{alert_id}`,
      tags,
      security: bearerSecurity,
      summary: 'Get a query alert (E34)',
      request: { params: byAlert },
      responses: okResponses(QueryAlertSchema, 'The alert'),
    }),
    (c) => reply(getQueryAlert(c.get('ctx'), Number(c.req.valid('param').alert_id))),
  );
  for (const [method, summary] of [
    ['post', 'Update a query alert (E35)'],
    ['patch', 'Update a query alert (E36)'],
  ] as const) {
    register(
      app,
      createRoute({
        method,
        path: `${CF}/events/queries/alerts/{alert_id}`,
        tags,
        security: bearerSecurity,
        summary,
        request: { params: byAlert, body: jsonBody(QueryAlertEditBody) },
        responses: okResponses(QueryAlertSchema, 'The updated alert'),
      }),
      (c) => reply(editQueryAlert(c.get('ctx'), Number(c.req.valid('param').alert_id), c.req.valid('json'))),
    );
  }
  register(
    app,
    createRoute({
      method: 'delete',
      path: `${CF}/events/queries/alerts/{alert_id}`,
      tags,
      security: bearerSecurity,
      summary: 'Delete a query alert (E37)',
      request: { params: byAlert },
      responses: okResponses(Empty, 'Deleted; its undelivered messages are dropped'),
    }),
    (c) => reply(deleteQueryAlert(c.get('ctx'), Number(c.req.valid('param').alert_id))),
  );
}

/** Registers E26–E31. */
export function savedQueryRoutes(app: OpenAPIHono<AppEnv>): void {
  const tags = ['Saved queries'];
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/queries`,
      tags,
      security: bearerSecurity,
      summary: 'List saved queries (E26)',
      request: { params: account },
      responses: okResponses(z.array(SavedQuerySchema), 'Every saved query of the account'),
    }),
    (c) => reply(listSavedQueries(c.get('ctx'))),
  );
  register(
    app,
    createRoute({
      method: 'post',
      path: `${CF}/events/queries/create`,
      tags,
      security: bearerSecurity,
      summary: 'Save a query (E27)',
      request: { params: account, body: jsonBody(SavedQueryBody) },
      responses: {
        ...okResponses(SavedQuerySchema, 'The saved query'),
        409: {
          description: 'A saved query with this name exists',
          content: errorResponses[400].content,
        },
      },
    }),
    (c) => reply(createSavedQuery(c.get('ctx'), c.req.valid('json'))),
  );
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/queries/{query_id}`,
      tags,
      security: bearerSecurity,
      summary: 'Get a saved query (E28)',
      request: { params: byQuery },
      responses: okResponses(SavedQuerySchema, 'The saved query'),
    }),
    (c) => reply(getSavedQuery(c.get('ctx'), Number(c.req.valid('param').query_id))),
  );
  for (const [method, summary] of [
    ['patch', 'Edit a saved query (E29)'],
    ['post', 'Edit a saved query (E30)'],
  ] as const) {
    register(
      app,
      createRoute({
        method,
        path: `${CF}/events/queries/{query_id}`,
        tags,
        security: bearerSecurity,
        summary,
        request: { params: byQuery, body: jsonBody(SavedQueryEditBody) },
        responses: {
          ...okResponses(SavedQuerySchema, 'The edited saved query'),
          409: { description: 'Another saved query has this name', content: errorResponses[400].content },
        },
      }),
      (c) => reply(editSavedQuery(c.get('ctx'), Number(c.req.valid('param').query_id), c.req.valid('json'))),
    );
  }
  register(
    app,
    createRoute({
      method: 'delete',
      path: `${CF}/events/queries/{query_id}`,
      tags,
      security: bearerSecurity,
      summary: 'Delete a saved query (E31)',
      description: 'Deletes the saved query and the alerts on it.',
      request: { params: byQuery },
      responses: okResponses(Empty, 'Event query deleted successfully'),
    }),
    (c) => reply(deleteSavedQuery(c.get('ctx'), Number(c.req.valid('param').query_id))),
  );
}
