import { z } from '@hono/zod-openapi';
import { TagTLPSchema } from './fields.ts';

const confidence = z.number().min(1).max(10);
const text = (max: number) => z.string().max(max);

const annotatedText = (max: number, example: string) =>
  z
    .union([
      text(max),
      z.object({
        value: text(max),
        confidence: confidence.optional(),
        tlp: TagTLPSchema.optional(),
      }),
    ])
    .nullable()
    .optional()
    .openapi({ description: 'A string, or {value, confidence?, tlp?}', example });

const AliasSchema = z
  .union([
    text(256).min(1),
    z.object({
      value: text(256).min(1),
      confidence: confidence.nullable().optional(),
      tlp: TagTLPSchema.nullable().optional(),
    }),
  ])
  .openapi('TagAlias', { example: { value: 'Fancy Bear', confidence: 8 } });

const stringList = (example: string[]) =>
  z.array(text(2048)).max(1000).nullable().optional().openapi({ example });

/** Body of E61; with every field optional, of E63. `null` clears a field on edit (except tlp). */
export const TagCreateSchema = z
  .object({
    value: text(256).min(1).openapi({ description: 'The tag (unique in the account)', example: 'APT28' }),
    activeDuration: annotatedText(256, 'P2Y'),
    actorCategory: annotatedText(256, 'nation-state'),
    attributionOrganization: annotatedText(256, 'GRU'),
    motive: annotatedText(1024, 'Espionage'),
    opsecLevel: annotatedText(256, 'high'),
    sophisticationLevel: annotatedText(256, 'advanced'),
    originCountryISO: z
      .union([
        text(64),
        z.object({
          value: text(64).nullable(),
          confidence: confidence.optional(),
          tlp: TagTLPSchema.optional(),
        }),
      ])
      .nullable()
      .optional()
      .openapi({ description: 'ISO 3166 alpha-2 or alpha-3 (or {value, confidence?, tlp?})', example: 'RU' }),
    priority: z
      .union([
        z.number(),
        z.object({ value: z.number(), confidence: confidence.optional(), tlp: TagTLPSchema.optional() }),
      ])
      .nullable()
      .optional()
      .openapi({ example: 3 }),
    aliases: z.array(AliasSchema).max(1000).nullable().optional(),
    internalAliases: z.array(AliasSchema).max(1000).nullable().optional(),
    aliasGroupNames: stringList(['sofacy']),
    aliasGroupNamesInternal: stringList([]),
    externalReferenceLinks: stringList(['https://attack.mitre.org/groups/G0007/']),
    externalReferences: z
      .array(z.object({ url: text(2048).min(1), description: text(1024).nullable().optional() }))
      .max(1000)
      .nullable()
      .optional(),
    categoryUuid: text(64)
      .nullable()
      .optional()
      .openapi({ description: 'Tag category; properties are validated against its schema. null unlinks' }),
    confidence: confidence.nullable().optional().openapi({ description: '1–10', example: 7 }),
    dateOfDiscovery: text(10)
      .nullable()
      .optional()
      .openapi({ description: 'YYYY-MM-DD', example: '2014-10-28' }),
    description: text(65536).nullable().optional(),
    internalDescription: text(65536).nullable().optional(),
    lastSeen: text(64).nullable().optional().openapi({ example: '2025-12-01' }),
    properties: z.record(z.string(), z.unknown()).nullable().optional().openapi({
      description: 'Custom fields; on edit merged per key, a null value deletes the key',
      example: {},
    }),
    tlp: TagTLPSchema.nullable().optional(),
  })
  .openapi('TagCreate');
export type TagInput = z.infer<typeof TagCreateSchema>;

export const TagEditSchema = TagCreateSchema.partial().openapi('TagEdit');
export type TagEdit = z.infer<typeof TagEditSchema>;

/** Body of E66. */
export const TagCategoryCreateSchema = z
  .object({
    name: text(256).min(1).openapi({ example: 'Threat Actor' }),
    description: text(4096).nullable().optional(),
    schema: z
      .array(z.record(z.string(), z.unknown()))
      .max(200)
      .nullable()
      .optional()
      .openapi({
        description: 'FieldDefinition[] (see the FieldDefinition schema); every problem is reported',
        example: [{ key: 'targetedSectors', kind: 'array', element: { kind: 'string' } }],
      }),
  })
  .openapi('TagCategoryCreate');
export type TagCategoryInput = z.infer<typeof TagCategoryCreateSchema>;

/** Body of E67: a given schema replaces the old one; omitted fields are kept. */
export const TagCategoryEditSchema = TagCategoryCreateSchema.partial().openapi('TagCategoryEdit');
export type TagCategoryEdit = z.infer<typeof TagCategoryEditSchema>;
