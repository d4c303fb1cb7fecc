import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import {
  listAttackers,
  listCountries,
  listDatasetTargetIndustries,
  listTargetIndustries,
  targetIndustryCatalog,
} from '../../domain/catalogs/lookups.ts';
import type { AppEnv } from '../auth.ts';
import { bearerSecurity, okResponses, reply } from '../envelope.ts';
import { QueryParams } from '../query.ts';
import { register } from '../route.ts';
import { AccountParam, CF, DatasetIdParam, queryParam } from '../schemas.ts';

const tags = ['Look-up lists'];
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
      security: bearerSecurity,
      summary: 'Attackers named in events (E43)',
      request: { params: account },
      parameters: [datasetIds],
      responses: okResponses(
        Strings.openapi({ example: ['APT28', 'Flying Yeti'] }),
        'Distinct attackers, sorted',
      ),
    }),
    async (c) => reply(await listAttackers(c.get('ctx'), new QueryParams(c.req.url).list('datasetIds'))),
  );
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/countries`,
      tags,
      security: bearerSecurity,
      summary: 'Countries (E44)',
      request: { params: account },
      responses: okResponses(z.array(CountrySchema), 'ISO 3166-1 countries, by name'),
    }),
    () => reply(listCountries()),
  );
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/targetIndustries/catalog`,
      tags,
      security: bearerSecurity,
      summary: 'The target industry catalog (E46)',
      request: { params: account },
      responses: okResponses(
        Strings.openapi({ example: ['Energy', 'Finance'] }),
        'Industry (sector) names, sorted',
      ),
    }),
    () => reply(targetIndustryCatalog()),
  );
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/targetIndustries`,
      tags,
      security: bearerSecurity,
      summary: 'Target industries named in events (E45)',
      request: { params: account },
      parameters: [datasetIds],
      responses: okResponses(Strings, 'Distinct target industries, sorted'),
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
      security: bearerSecurity,
      summary: 'Target industries named in the events of one dataset (E47)',
      request: { params: z.object({ account_id: AccountParam, dataset_id: DatasetIdParam }) },
      responses: okResponses(Strings, 'Distinct target industries, sorted'),
    }),
    async (c) => reply(await listDatasetTargetIndustries(c.get('ctx'), c.req.valid('param').dataset_id)),
  );
}
