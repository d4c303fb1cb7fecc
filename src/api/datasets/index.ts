import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { createDataset, deleteDataset, editDataset, getDataset } from '../../domain/datasets/datasets.ts';
import { listDatasetsWithRetention, purgeDataset, undeleteDataset } from '../../domain/datasets/retention.ts';
import type { AppEnv } from '../auth.ts';
import { bearerSecurity, jsonBody, okResponses, reply } from '../envelope.ts';
import { QueryParams } from '../query.ts';
import { register } from '../route.ts';
import { AccountParam, CF, DatasetIdParam, DatasetSchema, queryParam } from '../schemas.ts';

const tags = ['Datasets'];
const DatasetBody = z
  .object({
    name: z.string().min(1).max(256).openapi({ example: 'Phishing feed' }),
    isPublic: z.boolean().openapi({ description: 'true: anyone can search it; false: this account only' }),
  })
  .openapi('DatasetBody');
const DatasetCreateBody = DatasetBody.extend({
  isAnalytics: z.boolean().optional().openapi({ description: 'threatdesk: mark as an analytics dataset' }),
}).openapi('DatasetCreateBody');

/** Registers E38–E42. */
export function datasetRoutes(app: OpenAPIHono<AppEnv>): void {
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/dataset`,
      tags,
      security: bearerSecurity,
      summary: 'List datasets (E38)',
      request: { params: z.object({ account_id: AccountParam }) },
      parameters: [
        queryParam('includeDeleted', 'Include soft-deleted datasets, with deletedAt', { type: 'boolean' }),
      ],
      responses: okResponses(z.array(DatasetSchema), 'The datasets of the account'),
    }),
    async (c) => {
      const q = new QueryParams(c.req.url);
      return reply(
        await listDatasetsWithRetention(c.get('ctx'), {
          includeDeleted: q.boolean('includeDeleted') ?? false,
        }),
        200,
      );
    },
  );
  register(
    app,
    createRoute({
      method: 'post',
      path: `${CF}/events/dataset/create`,
      tags,
      security: bearerSecurity,
      summary: 'Create a dataset (E39)',
      request: { params: z.object({ account_id: AccountParam }), body: jsonBody(DatasetCreateBody) },
      responses: okResponses(DatasetSchema, 'The new dataset'),
    }),
    (c) => reply(createDataset(c.get('ctx'), c.req.valid('json')), 200),
  );
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/dataset/{dataset_id}`,
      tags,
      security: bearerSecurity,
      summary: 'Get a dataset (E40)',
      request: { params: z.object({ account_id: AccountParam, dataset_id: DatasetIdParam }) },
      responses: okResponses(DatasetSchema, 'The dataset'),
    }),
    (c) => reply(getDataset(c.get('ctx'), c.req.valid('param').dataset_id), 200),
  );
  register(
    app,
    createRoute({
      method: 'patch',
      path: `${CF}/events/dataset/{dataset_id}`,
      tags,
      security: bearerSecurity,
      summary: 'Edit a dataset (E41)',
      request: {
        params: z.object({ account_id: AccountParam, dataset_id: DatasetIdParam }),
        body: jsonBody(DatasetBody),
      },
      responses: okResponses(DatasetSchema, 'The edited dataset'),
    }),
    (c) => reply(editDataset(c.get('ctx'), c.req.valid('param').dataset_id, c.req.valid('json')), 200),
  );
  register(
    app,
    createRoute({
      method: 'delete',
      path: `${CF}/events/dataset/{dataset_id}`,
      tags,
      security: bearerSecurity,
      summary: 'Soft-delete a dataset (E42)',
      request: { params: z.object({ account_id: AccountParam, dataset_id: DatasetIdParam }) },
      responses: okResponses(z.object({ name: z.string(), uuid: z.string() }), 'The deleted dataset'),
    }),
    (c) => reply(deleteDataset(c.get('ctx'), c.req.valid('param').dataset_id), 200),
  );
}

/** Restore and purge of soft-deleted datasets (threatdesk extensions, documented). */
export function datasetRetentionRoutes(app: OpenAPIHono<AppEnv>): void {
  const params = z.object({ account_id: AccountParam, dataset_id: DatasetIdParam });
  register(
    app,
    createRoute({
      method: 'post',
      path: `${CF}/events/dataset/{dataset_id}/undelete`,
      tags,
      security: bearerSecurity,
      summary: 'Restore a soft-deleted dataset',
      description:
        'Brings back a dataset deleted with E42, with all its events, within THREATDESK_DATASET_RETENTION_DAYS ' +
        '(default 30); after that it is purged. 409 when another live dataset has taken its name.',
      request: { params },
      responses: okResponses(DatasetSchema, 'The restored dataset'),
    }),
    async (c) => reply(await undeleteDataset(c.get('ctx'), c.req.valid('param').dataset_id), 200),
  );
  register(
    app,
    createRoute({
      method: 'post',
      path: `${CF}/events/dataset/{dataset_id}/purge`,
      tags,
      security: bearerSecurity,
      summary: 'Erase a soft-deleted dataset now',
      description:
        'Erases a dataset already deleted with E42, and its events, for good (no undelete afterwards).',
      request: { params },
      responses: okResponses(z.object({ uuid: z.string(), purged: z.literal(true) }), 'Purged'),
    }),
    async (c) => reply(await purgeDataset(c.get('ctx'), c.req.valid('param').dataset_id), 200),
  );
}
