import { ACTORS, type ActorRecord } from '../../catalog/actors.ts';
import { findCountry } from '../../catalog/countries.ts';
import type { TagCategoryRecord, TagRecord } from '../../store/catalog/tags.ts';
import { type Ctx, requireWrite } from '../context.ts';
import { type FieldDefinition, parseSchema, sameJson, validateProperties } from './fields.ts';

export const THREAT_ACTOR_CATEGORY = 'Threat Actor';

/** The schema of the "Threat Actor" tag category the seed creates. */
export const THREAT_ACTOR_SCHEMA: FieldDefinition[] = [
  {
    key: 'targetedSectors',
    kind: 'array',
    label: 'Targeted sectors (MISP galaxy sector names)',
    element: { key: 'targetedSectors', kind: 'string', maxLength: 256 },
  },
  {
    key: 'targetCategories',
    kind: 'array',
    label: 'Target categories (CFR: Government, Private sector, Military…)',
    element: { key: 'targetCategories', kind: 'string', maxLength: 256 },
  },
  {
    key: 'targetCountries',
    kind: 'array',
    label: 'Suspected victim countries',
    element: { key: 'targetCountries', kind: 'string', format: 'country' },
    enforcement: 'warn',
  },
  {
    key: 'incidentTypes',
    kind: 'array',
    label: 'Incident types (Espionage, Financial Theft, Sabotage…)',
    element: { key: 'incidentTypes', kind: 'string', maxLength: 256 },
  },
  {
    key: 'mitreGroupIds',
    kind: 'array',
    label: 'MITRE ATT&CK group ids',
    element: { key: 'mitreGroupIds', kind: 'string', maxLength: 16 },
  },
  {
    key: 'attributionConfidence',
    kind: 'number',
    label: 'Attribution confidence (0–100, MISP galaxy)',
    numberConstraint: { integer: true, min: 0, max: 100 },
  },
  { key: 'mispGalaxyUuid', kind: 'string', label: 'MISP galaxy cluster value uuid', maxLength: 64 },
];

/** How the seeded fields of one actor look in a tag document. */
function actorDoc(a: ActorRecord): { doc: Record<string, unknown>; properties: Record<string, unknown> } {
  const doc: Record<string, unknown> = {};
  const aliases = (a.aliases ?? []).filter((x) => x !== a.name).map((value) => ({ value }));
  if (aliases.length) doc.aliases = aliases;
  const country = a.country ? findCountry(a.country) : undefined;
  if (country) doc.originCountryISO = { value: country.alpha2 };
  const motive = a.motive ?? (a.incidentTypes?.length ? a.incidentTypes.join(', ') : undefined);
  if (motive) doc.motive = { value: motive };
  if (a.description) doc.description = a.description;
  if (a.attributionConfidence !== undefined)
    doc.confidence = Math.min(10, Math.max(1, Math.round(a.attributionConfidence / 10)));
  const refs = (a.mitreGroupIds ?? []).map((id) => ({
    url: `https://attack.mitre.org/groups/${id}/`,
    description: `MITRE ATT&CK group ${id}`,
  }));
  if (refs.length) doc.externalReferences = refs;
  const properties: Record<string, unknown> = { mispGalaxyUuid: a.uuid };
  if (a.targetedSectors?.length) properties.targetedSectors = a.targetedSectors;
  if (a.targetCategories?.length) properties.targetCategories = a.targetCategories;
  if (a.targetCountries?.length) properties.targetCountries = a.targetCountries;
  if (a.incidentTypes?.length) properties.incidentTypes = a.incidentTypes;
  if (a.mitreGroupIds?.length) properties.mitreGroupIds = a.mitreGroupIds;
  if (a.attributionConfidence !== undefined) properties.attributionConfidence = a.attributionConfidence;
  return { doc, properties };
}

const SEEDED_FIELDS = [
  'aliases',
  'originCountryISO',
  'motive',
  'description',
  'confidence',
  'externalReferences',
];

export interface SeedResult {
  categoryUuid: string;
  created: number;
  updated: number;
  unchanged: number;
}

/**
 * Creates or updates one tag per MISP galaxy threat actor (value = actor name) in the
 * "Threat Actor" category, creating the category first. Idempotent: a second run changes nothing.
 * Fields the seed does not own (internal notes, other properties, the TLP once set) are kept.
 */
export function seedActors(ctx: Ctx, actors: readonly ActorRecord[] = ACTORS): SeedResult {
  requireWrite(ctx);
  const catalog = ctx.stores.catalog(ctx.accountId);
  const store = catalog.tags;
  const schema = parseSchema(THREAT_ACTOR_SCHEMA);
  return catalog.transaction(() => {
    const now = ctx.clock.now();
    let category: TagCategoryRecord | undefined = store.tagCategoryByName(THREAT_ACTOR_CATEGORY);
    if (!category) {
      category = {
        uuid: ctx.ids.uuid(),
        name: THREAT_ACTOR_CATEGORY,
        description: 'Threat actors from the MISP galaxy threat-actor cluster (CC0 1.0 or BSD-2-Clause)',
        schema,
        createdAt: now,
        updatedAt: now,
      };
      store.insertTagCategory(category);
    } else if (!sameJson(category.schema, schema)) {
      category = { ...category, schema, updatedAt: now };
      store.updateTagCategory(category);
    }
    const existing = store.tagsByValue(actors.map((a) => a.name));
    const result: SeedResult = { categoryUuid: category.uuid, created: 0, updated: 0, unchanged: 0 };
    for (const actor of actors) {
      const { doc, properties } = actorDoc(actor);
      const old = existing.get(actor.name);
      const oldProps =
        old && typeof old.doc.properties === 'object' && old.doc.properties !== null
          ? (old.doc.properties as Record<string, unknown>)
          : {};
      const mergedProps = { ...oldProps, ...properties };
      validateProperties(schema, mergedProps, oldProps);
      if (!old) {
        const record: TagRecord = {
          uuid: ctx.ids.uuid(),
          value: actor.name,
          categoryUuid: category.uuid,
          tlp: 'clear',
          version: 1,
          doc: { ...doc, properties: mergedProps },
          createdAt: now,
          updatedAt: now,
        };
        store.insertTag(record);
        existing.set(actor.name, record);
        result.created++;
        continue;
      }
      const nextDoc: Record<string, unknown> = { ...old.doc };
      for (const f of SEEDED_FIELDS) delete nextDoc[f];
      Object.assign(nextDoc, doc, { properties: mergedProps });
      const tlp = old.tlp ?? 'clear';
      if (old.categoryUuid === category.uuid && old.tlp === tlp && sameJson(old.doc, nextDoc)) {
        result.unchanged++;
        continue;
      }
      store.updateTag({
        ...old,
        categoryUuid: category.uuid,
        tlp,
        doc: nextDoc,
        version: old.version + 1,
        updatedAt: now,
      });
      result.updated++;
    }
    return result;
  });
}
