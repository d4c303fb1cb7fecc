import type { TagCategoryRecord } from '../../store/catalog/tags.ts';
import { type Ctx, requireWrite } from '../context.ts';
import { conflict, invalidInput, notFound } from '../errors.ts';
import { parseSchema } from './fields.ts';
import type { TagCategoryEdit, TagCategoryInput } from './input.ts';

/** A tag category as the API returns it (C0.9). */
export interface TagCategoryView {
  uuid: string;
  name: string;
  description?: string;
  schema: unknown[] | null;
  createdAt: string;
  updatedAt: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function toTagCategoryView(c: TagCategoryRecord): TagCategoryView {
  const view: TagCategoryView = {
    uuid: c.uuid,
    name: c.name,
    schema: c.schema,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
  if (c.description !== null) view.description = c.description;
  return view;
}

/** E65 */
export function listTagCategories(
  ctx: Ctx,
  input: { search?: string | undefined },
): { categories: TagCategoryView[] } {
  const search = input.search?.trim();
  return {
    categories: ctx.stores
      .catalog(ctx.accountId)
      .tags.listTagCategories(search || undefined)
      .map(toTagCategoryView),
  };
}

/** E66 */
export function createTagCategory(ctx: Ctx, input: TagCategoryInput): TagCategoryView {
  requireWrite(ctx);
  const name = input.name.trim();
  if (!name) throw invalidInput('name: must not be empty');
  const schema = input.schema ? parseSchema(input.schema) : null;
  const catalog = ctx.stores.catalog(ctx.accountId);
  return catalog.transaction(() => {
    if (catalog.tags.tagCategoryByName(name))
      throw conflict(`name: a tag category ${JSON.stringify(name)} already exists`);
    const now = ctx.clock.now();
    const record: TagCategoryRecord = {
      uuid: ctx.ids.uuid(),
      name,
      description: input.description ?? null,
      schema,
      createdAt: now,
      updatedAt: now,
    };
    catalog.tags.insertTagCategory(record);
    return toTagCategoryView(record);
  });
}

/** E67: a given schema replaces the stored one; stored tags are not re-validated. */
export function editTagCategory(ctx: Ctx, uuid: string, input: TagCategoryEdit): TagCategoryView {
  requireWrite(ctx);
  const schema = input.schema ? parseSchema(input.schema) : input.schema;
  const catalog = ctx.stores.catalog(ctx.accountId);
  return catalog.transaction(() => {
    const old = catalog.tags.getTagCategory(uuid);
    if (!old) throw notFound('tag category', uuid);
    const next: TagCategoryRecord = { ...old, updatedAt: ctx.clock.now() };
    if (input.name !== undefined) {
      const name = input.name.trim();
      if (!name) throw invalidInput('name: must not be empty');
      const clash = catalog.tags.tagCategoryByName(name);
      if (clash && clash.uuid !== uuid)
        throw conflict(`name: a tag category ${JSON.stringify(name)} already exists`);
      next.name = name;
    }
    if (input.description !== undefined) next.description = input.description;
    if (schema !== undefined) next.schema = schema;
    catalog.tags.updateTagCategory(next);
    return toTagCategoryView(next);
  });
}

/** E68: refused (409) while tags still use the category. */
export function deleteTagCategory(ctx: Ctx, uuid: string): { uuid: string } {
  requireWrite(ctx);
  const catalog = ctx.stores.catalog(ctx.accountId);
  return catalog.transaction(() => {
    if (!catalog.tags.getTagCategory(uuid)) throw notFound('tag category', uuid);
    const used = catalog.tags.countTagsInCategory(uuid);
    if (used > 0)
      throw conflict(
        `category_uuid: ${used} tag(s) still use this category; move them (PATCH categoryUuid) or delete them first`,
      );
    catalog.tags.deleteTagCategory(uuid);
    return { uuid };
  });
}
