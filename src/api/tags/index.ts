import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import {
  createTagCategory,
  deleteTagCategory,
  editTagCategory,
  listTagCategories,
} from '../../domain/tags/categories.ts';
import { FieldDefinitionSchema, TagTLPSchema } from '../../domain/tags/fields.ts';
import {
  TagCategoryCreateSchema,
  TagCategoryEditSchema,
  TagCreateSchema,
  TagEditSchema,
} from '../../domain/tags/input.ts';
import {
  createTag,
  deleteTag,
  editTag,
  listTags,
  MAX_TAG_FILTERS,
  MAX_TAG_PAGE_SIZE,
} from '../../domain/tags/tags.ts';
import type { AppEnv } from '../auth.ts';
import { bearerSecurity, jsonBody, okResponses, reply } from '../envelope.ts';
import { QueryParams } from '../query.ts';
import { register } from '../route.ts';
import { AccountParam, CF, idParam, queryParam } from '../schemas.ts';

const tags = ['Tags'];

const TagUuidParam = idParam('tag_uuid', 'Tag UUID');
const CategoryUuidParam = idParam('category_uuid', 'Tag category UUID');

const Annotated = z
  .object({ value: z.string().nullable(), confidence: z.number().optional(), tlp: TagTLPSchema.optional() })
  .nullable()
  .optional();
const Alias = z.object({
  value: z.string(),
  confidence: z.number().nullable().optional(),
  tlp: TagTLPSchema.nullable().optional(),
});

const TagSchema = z
  .object({
    uuid: z.string(),
    value: z.string().openapi({ example: 'APT28' }),
    activeDuration: z.string().optional(),
    activeDuration_annotated: Annotated,
    actorCategory: z.string().optional(),
    actorCategory_annotated: Annotated,
    aliases: z.array(Alias).optional(),
    aliasGroupNames: z.array(z.string()).optional(),
    aliasGroupNamesInternal: z.array(z.string()).optional(),
    attributionOrganization: z.string().optional(),
    attributionOrganization_annotated: Annotated,
    categoryName: z.string().optional(),
    categoryUuid: z.string().optional(),
    confidence: z.number().nullable().optional(),
    createdAt: z.string(),
    dateOfDiscovery: z.string().optional(),
    description: z.string().optional(),
    externalReferenceLinks: z.array(z.string()).optional(),
    externalReferences: z
      .array(z.object({ url: z.string(), description: z.string().nullable().optional() }))
      .optional(),
    externalReferences_annotated: z
      .array(z.object({ value: z.string(), tlp: TagTLPSchema.optional() }))
      .nullable()
      .optional(),
    internalAliases: z.array(Alias).optional(),
    internalDescription: z.string().optional(),
    lastSeen: z.string().optional(),
    motive: z.string().optional(),
    motive_annotated: Annotated,
    opsecLevel: z.string().optional(),
    opsecLevel_annotated: Annotated,
    originCountryISO: z.string().nullable().optional().openapi({ description: 'Upper case' }),
    originCountryISO_annotated: Annotated,
    priority: z.number().optional(),
    priority_annotated: z
      .object({ value: z.number(), confidence: z.number().optional(), tlp: TagTLPSchema.optional() })
      .nullable()
      .optional(),
    properties: z.record(z.string(), z.unknown()).nullable(),
    sophisticationLevel: z.string().optional(),
    sophisticationLevel_annotated: Annotated,
    tlp: TagTLPSchema.nullable(),
    updatedAt: z.string(),
    version: z.number().openapi({ description: 'Starts at 1, +1 on every edit' }),
  })
  .openapi('Tag');

const TagCategorySchema = z
  .object({
    uuid: z.string(),
    name: z.string(),
    description: z.string().optional(),
    schema: z.array(FieldDefinitionSchema).nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('TagCategory');

const TagListSchema = z
  .object({
    tags: z.array(TagSchema),
    pagination: z.object({
      page: z.number(),
      pageSize: z.number(),
      totalCount: z.number(),
      totalPages: z.number(),
    }),
  })
  .openapi('TagList');

const account = z.object({ account_id: AccountParam });
const Deleted = z.object({ uuid: z.string() });

/** Registers E61–E68. Literal paths (categories, create) come before `{tag_uuid}`. */
export function tagRoutes(app: OpenAPIHono<AppEnv>): void {
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/tags/categories`,
      tags,
      security: bearerSecurity,
      summary: 'List tag categories (E65)',
      request: { params: account },
      parameters: [queryParam('search', 'Case-insensitive substring of the name or description')],
      responses: okResponses(
        z.object({ categories: z.array(TagCategorySchema) }),
        'The categories, by name',
        { conflict: 'The value or name is taken, or the category is still in use' },
      ),
    }),
    (c) => reply(listTagCategories(c.get('ctx'), { search: new QueryParams(c.req.url).string('search') })),
  );
  register(
    app,
    createRoute({
      method: 'post',
      path: `${CF}/events/tags/categories/create`,
      tags,
      security: bearerSecurity,
      summary: 'Create a tag category (E66)',
      description: 'The schema (FieldDefinition[]) is validated; tags of the category must then match it.',
      request: { params: account, body: jsonBody(TagCategoryCreateSchema) },
      responses: okResponses(TagCategorySchema, 'The new category', {
        conflict: 'The value or name is taken, or the category is still in use',
      }),
    }),
    (c) => reply(createTagCategory(c.get('ctx'), c.req.valid('json'))),
  );
  register(
    app,
    createRoute({
      method: 'patch',
      path: `${CF}/events/tags/categories/{category_uuid}`,
      tags,
      security: bearerSecurity,
      summary: 'Edit a tag category (E67)',
      description: 'A given schema replaces the stored one; omitted fields are kept.',
      request: {
        params: z.object({ account_id: AccountParam, category_uuid: CategoryUuidParam }),
        body: jsonBody(TagCategoryEditSchema),
      },
      responses: okResponses(TagCategorySchema, 'The edited category', {
        conflict: 'The value or name is taken, or the category is still in use',
      }),
    }),
    (c) => reply(editTagCategory(c.get('ctx'), c.req.valid('param').category_uuid, c.req.valid('json'))),
  );
  register(
    app,
    createRoute({
      method: 'delete',
      path: `${CF}/events/tags/categories/{category_uuid}`,
      tags,
      security: bearerSecurity,
      summary: 'Delete a tag category (E68)',
      description: 'Refused with 409 while tags still use the category.',
      request: { params: z.object({ account_id: AccountParam, category_uuid: CategoryUuidParam }) },
      responses: okResponses(Deleted, 'The deleted category', {
        conflict: 'The value or name is taken, or the category is still in use',
      }),
    }),
    (c) => reply(deleteTagCategory(c.get('ctx'), c.req.valid('param').category_uuid)),
  );
  register(
    app,
    createRoute({
      method: 'post',
      path: `${CF}/events/tags/create`,
      tags,
      security: bearerSecurity,
      summary: 'Create a tag (E61)',
      description:
        'With categoryUuid, properties are validated against the category schema: rules with enforcement ' +
        '"error" answer 400, rules with "warn" store the tag and answer a warning in messages.',
      request: { params: account, body: jsonBody(TagCreateSchema) },
      responses: okResponses(TagSchema, 'The new tag', {
        conflict: 'The value or name is taken, or the category is still in use',
      }),
    }),
    (c) => {
      const { tag, messages } = createTag(c.get('ctx'), c.req.valid('json'));
      return reply(tag, 200, undefined, messages);
    },
  );
  register(
    app,
    createRoute({
      method: 'get',
      path: `${CF}/events/tags`,
      tags,
      security: bearerSecurity,
      summary: 'List and search tags (E62)',
      description:
        'search: case-insensitive substring of the value or the serialized properties. filters: at most ' +
        `${MAX_TAG_FILTERS} AND-ed {field, op, value}; fields uuid (equals/in only), value, categoryName, ` +
        'description, dateOfDiscovery, tlp, confidence, actorCategory, motive, attributionOrganization, ' +
        'originCountryISO, aliases, externalReferences, opsecLevel, sophisticationLevel, activeDuration, ' +
        'priority, lastSeen, aliasGroupNames, properties.<key>, properties.<key>.tlp, properties.<key>.confidence.',
      request: { params: account },
      parameters: [
        queryParam('search', 'Case-insensitive substring of value or properties'),
        queryParam('categoryUuid', 'Only tags of this category'),
        queryParam('filters', 'filters.field=…&filters.op=…&filters.value=… or a JSON array'),
        queryParam('page', '1-based page', { type: 'integer', minimum: 1 }),
        queryParam('pageSize', `Page size, at most ${MAX_TAG_PAGE_SIZE}`, {
          type: 'integer',
          minimum: 1,
          maximum: MAX_TAG_PAGE_SIZE,
        }),
      ],
      responses: okResponses(TagListSchema, 'One page of tags, ordered by value', {
        conflict: 'The value or name is taken, or the category is still in use',
      }),
    }),
    (c) => {
      const q = new QueryParams(c.req.url);
      return reply(
        listTags(c.get('ctx'), {
          search: q.string('search'),
          categoryUuid: q.string('categoryUuid') || undefined,
          filters: q.conditions('filters', MAX_TAG_FILTERS),
          page: q.integer('page', { min: 1, max: 1_000_000 }),
          pageSize: q.integer('pageSize', { min: 1, max: MAX_TAG_PAGE_SIZE }),
        }),
      );
    },
  );
  register(
    app,
    createRoute({
      method: 'patch',
      path: `${CF}/events/tags/{tag_uuid}`,
      tags,
      security: bearerSecurity,
      summary: 'Edit a tag (E63)',
      description:
        'Omitted fields are kept; null clears a field (tlp cannot be cleared). properties merge per key (a null ' +
        'value deletes the key) and the result is validated; a categoryUuid change re-validates. version goes up.',
      request: {
        params: z.object({ account_id: AccountParam, tag_uuid: TagUuidParam }),
        body: jsonBody(TagEditSchema),
      },
      responses: okResponses(TagSchema, 'The edited tag', {
        conflict: 'The value or name is taken, or the category is still in use',
      }),
    }),
    (c) => {
      const { tag, messages } = editTag(c.get('ctx'), c.req.valid('param').tag_uuid, c.req.valid('json'));
      return reply(tag, 200, undefined, messages);
    },
  );
  register(
    app,
    createRoute({
      method: 'delete',
      path: `${CF}/events/tags/{tag_uuid}`,
      tags,
      security: bearerSecurity,
      summary: 'Delete a tag (E64)',
      request: { params: z.object({ account_id: AccountParam, tag_uuid: TagUuidParam }) },
      responses: okResponses(Deleted, 'The deleted tag', {
        conflict: 'The value or name is taken, or the category is still in use',
      }),
    }),
    (c) => reply(deleteTag(c.get('ctx'), c.req.valid('param').tag_uuid)),
  );
}
