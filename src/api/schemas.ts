import { z } from '@hono/zod-openapi';

/** Path prefix of every Cloudforce One route. */
export const CF = '/accounts/{account_id}/cloudforce-one';

export const AccountParam = z
  .string()
  .min(1)
  .max(64)
  .openapi({
    param: { name: 'account_id', in: 'path' },
    description: 'Account ID',
    example: '023e105f4ecef8ad9ca31a8372d0c353',
  });

/** A path parameter holding an id. */
export const idParam = (name: string, description: string) =>
  z
    .string()
    .min(1)
    .max(256)
    .openapi({ param: { name, in: 'path' }, description });

export const DatasetIdParam = idParam('dataset_id', 'Dataset UUID');
export const EventIdParam = idParam('event_id', 'Event UUID');
export const RawIdParam = idParam('raw_id', 'Raw payload id (the event rawId)');

export const DatasetSchema = z
  .object({
    uuid: z.string().openapi({ example: '9b7c2f0e-9d3a-4b8e-a1de-5f2c7b1d4e11' }),
    name: z.string().openapi({ example: 'Phishing feed' }),
    isPublic: z.boolean(),
    isAnalytics: z.boolean(),
    indicatorWriteMode: z.enum(['read_only', 'create_only', 'full']),
    deletedAt: z.string().nullable().optional().openapi({ description: 'Only with includeDeleted=true' }),
  })
  .openapi('Dataset');

export const ThreatEventSchema = z
  .object({
    uuid: z.string(),
    datasetId: z.string(),
    date: z.string().openapi({ example: '2022-04-01T00:00:00.000Z' }),
    createdAt: z.string(),
    updatedAt: z.string(),
    attacker: z.string(),
    attackerCountry: z.string(),
    attackerCountryAlpha3: z.string(),
    category: z.string(),
    event: z.string(),
    hasChildren: z.boolean(),
    indicator: z.string(),
    indicatorType: z.string(),
    indicatorTypeId: z.number(),
    indicators: z.array(z.object({ indicatorType: z.string(), value: z.string() })),
    insight: z.string().optional(),
    killChain: z.number(),
    mitreAttack: z.array(z.string()),
    mitreCapec: z.array(z.string()),
    numReferenced: z.number(),
    numReferences: z.number(),
    rawId: z.string(),
    referenced: z.array(z.string()),
    referencedIds: z.array(z.number()),
    references: z.array(z.string()),
    referencesIds: z.array(z.number()),
    releasabilityId: z.string().optional(),
    tags: z.array(z.string()),
    targetCountry: z.string(),
    targetCountryAlpha3: z.string(),
    targetIndustry: z.string(),
    tlp: z.string(),
  })
  .openapi('ThreatEvent');

export const ResultInfoSchema = z
  .object({
    page: z.number(),
    per_page: z.number(),
    count: z.number(),
    total_count: z.number(),
    total_pages: z.number(),
    cursor: z.string().optional().openapi({ description: 'Pass as `cursor` to get the next page' }),
  })
  .openapi('ResultInfo');

export const RawEventSchema = z
  .object({
    id: z.string(),
    accountId: z.number(),
    created: z.string(),
    updated: z.string(),
    data: z.unknown(),
    source: z.string(),
    tlp: z.string(),
  })
  .openapi('RawEvent');

/** An OpenAPI query parameter description (query strings are parsed by api/query.ts). */
export function queryParam(
  name: string,
  description: string,
  schema: Record<string, unknown> = { type: 'string' },
) {
  return { name, in: 'query' as const, required: false, description, schema };
}
