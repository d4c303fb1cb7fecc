import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import {
  listAttackers,
  listCountries,
  listDatasetTargetIndustries,
  listTargetIndustries,
  targetIndustryCatalog,
} from '../../domain/catalogs/lookups.ts';
import type { AppEnv } from '../auth.ts';
import { envelopeSchema, errorResponses, reply } from '../envelope.ts';
import { QueryParams } from '../query.ts';
import { register } from '../route.ts';
import { AccountParam, CF, DatasetIdParam, queryParam } from '../schemas.ts';

const security = [{ bearerAuth: [] }];
const tags = ['Look-up lists'];
const ok = <T extends z.ZodType>(schema: T, description: string) => ({
  200: { description, content: { 'application/json': { schema: envelopeSchema(schema) } } },
  ...errorResponses,
});
const account = z.object({ account_id: AccountParam });
const datasetIds = queryParam(
  'datasetIds',
  'Dataset uuids, or one of all, *, analytics, operational; default dataset when absent',
);
const Strings = z.array(z.string());
const CountrySchema = z
  .object({
    alpha2: z.string().openapi({ example: 'US' }),
    alpha3: z.string().openapi({ example: 'USA' }),
    name: z.string().openapi({ example: 'United States of America' }),
  })
  .openapi('Country');

/** Registers E43–E47. Every list of names is a plain string array (ARCHITECTURE decision 5). */
export function lookupRoutes(app: OpenAPIHono<AppEnv>): void {
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/attackers`,
      tags,
      security,
      summary: 'Attackers named in events (E43)',
      request: { params: account },
      parameters: [datasetIds],
      responses: ok(Strings.openapi({ example: ['APT28', 'Flying Yeti'] }), 'Distinct attackers, sorted'),
    }),
    async (c) => reply(await listAttackers(c.get('ctx'), new QueryParams(c.req.url).list('datasetIds'))),
  );
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/countries`,
      tags,
      security,
      summary: 'Countries (E44)',
      request: { params: account },
      responses: ok(z.array(CountrySchema), 'ISO 3166-1 countries, by name'),
    }),
    () => reply(listCountries()),
  );
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/targetIndustries/catalog`,
      tags,
      security,
      summary: 'The target industry catalog (E46)',
      request: { params: account },
      responses: ok(Strings.openapi({ example: ['Energy', 'Finance'] }), 'Industry (sector) names, sorted'),
    }),
    () => reply(targetIndustryCatalog()),
  );
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/targetIndustries`,
      tags,
      security,
      summary: 'Target industries named in events (E45)',
      request: { params: account },
      parameters: [datasetIds],
      responses: ok(Strings, 'Distinct target industries, sorted'),
    }),
    async (c) =>
      reply(await listTargetIndustries(c.get('ctx'), new QueryParams(c.req.url).list('datasetIds'))),
  );
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/dataset/{dataset_id}/targetIndustries`,
      tags,
      security,
      summary: 'Target industries named in the events of one dataset (E47)',
      request: { params: z.object({ account_id: AccountParam, dataset_id: DatasetIdParam }) },
      responses: ok(Strings, 'Distinct target industries, sorted'),
    }),
    async (c) => reply(await listDatasetTargetIndustries(c.get('ctx'), c.req.valid('param').dataset_id)),
  );
}
