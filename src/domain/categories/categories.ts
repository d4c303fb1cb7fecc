import { z } from '@hono/zod-openapi';
import { ATTACK_TACTICS, isAttackTechnique, techniquesOfTactic } from '../../catalog/attack.ts';
import { KILL_CHAIN_PHASES } from '../../catalog/killchain.ts';
import type { EventCategoryRecord } from '../../store/catalog/event-categories.ts';
import { type Ctx, requireWrite } from '../context.ts';
import { resolveDatasets } from '../datasets/datasets.ts';
import { conflict, invalidInput, notFound } from '../errors.ts';

/** An event category as the API returns it (C0.10). */
export interface EventCategoryView {
  uuid: string;
  name: string;
  killChain: number;
  mitreAttack: string[];
  mitreCapec: string[];
  shortname?: string;
}

const ids = (example: string[]) =>
  z.array(z.string().min(1).max(32)).max(1000).optional().openapi({ example });

/** Body of E49. */
export const EventCategoryCreateSchema = z
  .object({
    name: z.string().min(1).max(256).openapi({ example: 'Credential Phishing' }),
    killChain: z
      .number()
      .int()
      .min(0)
      .max(100)
      .openapi({ description: 'Kill chain phase (Lockheed Martin order 1–7)', example: 3 }),
    mitreAttack: ids(['T1566', 'T1566.002']).openapi({ description: 'ATT&CK technique ids (validated)' }),
    mitreCapec: ids(['CAPEC-98']),
    shortname: z.string().max(128).nullable().optional().openapi({ example: 'cred-phish' }),
  })
  .openapi('EventCategoryCreate');
export type EventCategoryInput = z.infer<typeof EventCategoryCreateSchema>;

/** Body of E51: the E49 fields, all optional. */
export const EventCategoryEditSchema = EventCategoryCreateSchema.partial().openapi('EventCategoryEdit');
export type EventCategoryEdit = z.infer<typeof EventCategoryEditSchema>;

/**
 * Which Lockheed Martin phase each ATT&CK tactic falls in. The two models do not map one to one;
 * this is the usual reading: pre-compromise tactics to the first three phases, footholds to
 * Exploitation/Installation, C2 to Command and Control, everything done inside to Actions on Objectives.
 */
const TACTIC_PHASE: Readonly<Record<string, number>> = {
  reconnaissance: 1,
  'resource-development': 2,
  'initial-access': 3,
  execution: 4,
  'privilege-escalation': 4,
  persistence: 5,
  'defense-evasion': 5,
  'command-and-control': 6,
  'credential-access': 7,
  discovery: 7,
  'lateral-movement': 7,
  collection: 7,
  exfiltration: 7,
  impact: 7,
};

/** A deterministic UUID-shaped id (version 8) for a catalog entry, stable across installs. */
function stableUuid(text: string): string {
  let hex = '';
  for (let seed = 0; seed < 4; seed++) {
    let h = (0x811c9dc5 ^ Math.imul(seed + 1, 0x9e3779b9)) >>> 0;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    hex += (h >>> 0).toString(16).padStart(8, '0');
  }
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 3) | 8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

let catalogCache: readonly EventCategoryView[] | undefined;

/**
 * E53: the built-in catalog: the 7 Lockheed Martin kill chain phases (killChain = phase order)
 * and the 14 ATT&CK Enterprise tactics (mitreAttack = the tactic's techniques, without sub-techniques).
 */
export function eventCategoryCatalog(): readonly EventCategoryView[] {
  if (!catalogCache) {
    const phases: EventCategoryView[] = KILL_CHAIN_PHASES.map((p) => ({
      uuid: stableUuid(`kill-chain:${p.value}`),
      name: p.value,
      killChain: p.order,
      mitreAttack: [],
      mitreCapec: [],
      shortname: `kill-chain:${slug(p.value)}`,
    }));
    const tactics: EventCategoryView[] = ATTACK_TACTICS.map((t) => ({
      uuid: stableUuid(`mitre-attack:${t.id}`),
      name: t.name,
      killChain: TACTIC_PHASE[t.shortname] ?? 0,
      mitreAttack: techniquesOfTactic(t.shortname),
      mitreCapec: [],
      shortname: t.shortname,
    }));
    catalogCache = [...phases, ...tactics];
  }
  return catalogCache;
}

export function toEventCategoryView(c: EventCategoryRecord): EventCategoryView {
  const view: EventCategoryView = {
    uuid: c.uuid,
    name: c.name,
    killChain: c.killChain,
    mitreAttack: c.mitreAttack,
    mitreCapec: c.mitreCapec,
  };
  if (c.shortname) view.shortname = c.shortname;
  return view;
}

/** Upper-cases ATT&CK ids and drops duplicates; every unknown id is reported by its index. */
function checkTechniques(list: readonly string[], issues: string[]): string[] {
  const out: string[] = [];
  list.forEach((raw, i) => {
    const id = raw.trim().toUpperCase();
    if (!isAttackTechnique(id))
      issues.push(`mitreAttack[${i}]: ${JSON.stringify(raw)} is not an ATT&CK Enterprise technique id`);
    else if (!out.includes(id)) out.push(id);
  });
  return out;
}

const uniqueTrimmed = (list: readonly string[]): string[] => [
  ...new Set(list.map((s) => s.trim()).filter(Boolean)),
];

/** E48: the account's categories (the datasets named must exist). */
export function listEventCategories(
  ctx: Ctx,
  input: { datasetIds?: readonly string[] | undefined },
): EventCategoryView[] {
  resolveDatasets(ctx, input.datasetIds, 'datasetIds');
  return ctx.stores.catalog(ctx.accountId).eventCategories.list().map(toEventCategoryView);
}

/** E50: a category of the account, or of the catalog. */
export function getEventCategory(ctx: Ctx, uuid: string): EventCategoryView {
  const own = ctx.stores.catalog(ctx.accountId).eventCategories.get(uuid);
  if (own) return toEventCategoryView(own);
  const builtIn = eventCategoryCatalog().find((c) => c.uuid === uuid);
  if (builtIn) return builtIn;
  throw notFound('event category', uuid);
}

/** E49 */
export function createEventCategory(ctx: Ctx, input: EventCategoryInput): EventCategoryView {
  requireWrite(ctx);
  const name = input.name.trim();
  const issues: string[] = [];
  if (!name) issues.push('name: must not be empty');
  const mitreAttack = checkTechniques(input.mitreAttack ?? [], issues);
  if (issues.length) throw invalidInput(issues);
  const catalog = ctx.stores.catalog(ctx.accountId);
  return catalog.transaction(() => {
    if (catalog.eventCategories.byName(name))
      throw conflict(`name: an event category ${JSON.stringify(name)} already exists`);
    const now = ctx.clock.now();
    const record: EventCategoryRecord = {
      uuid: ctx.ids.uuid(),
      name,
      shortname: input.shortname?.trim() || null,
      killChain: input.killChain,
      mitreAttack,
      mitreCapec: uniqueTrimmed(input.mitreCapec ?? []),
      createdAt: now,
      updatedAt: now,
    };
    catalog.eventCategories.insert(record);
    return toEventCategoryView(record);
  });
}

function mustOwn(ctx: Ctx, uuid: string): EventCategoryRecord {
  const own = ctx.stores.catalog(ctx.accountId).eventCategories.get(uuid);
  if (own) return own;
  if (eventCategoryCatalog().some((c) => c.uuid === uuid))
    throw invalidInput(`category_id: ${uuid} is a built-in catalog category and cannot be changed`);
  throw notFound('event category', uuid);
}

/** E51 */
export function editEventCategory(ctx: Ctx, uuid: string, input: EventCategoryEdit): EventCategoryView {
  requireWrite(ctx);
  const catalog = ctx.stores.catalog(ctx.accountId);
  return catalog.transaction(() => {
    const next: EventCategoryRecord = { ...mustOwn(ctx, uuid), updatedAt: ctx.clock.now() };
    const issues: string[] = [];
    if (input.name !== undefined) {
      const name = input.name.trim();
      if (!name) issues.push('name: must not be empty');
      const clash = catalog.eventCategories.byName(name);
      if (clash && clash.uuid !== uuid)
        throw conflict(`name: an event category ${JSON.stringify(name)} already exists`);
      next.name = name;
    }
    if (input.killChain !== undefined) next.killChain = input.killChain;
    if (input.mitreAttack !== undefined) next.mitreAttack = checkTechniques(input.mitreAttack, issues);
    if (input.mitreCapec !== undefined) next.mitreCapec = uniqueTrimmed(input.mitreCapec);
    if (input.shortname !== undefined) next.shortname = input.shortname?.trim() || null;
    if (issues.length) throw invalidInput(issues);
    catalog.eventCategories.update(next);
    return toEventCategoryView(next);
  });
}

/** E52 */
export function deleteEventCategory(ctx: Ctx, uuid: string): { uuid: string } {
  requireWrite(ctx);
  mustOwn(ctx, uuid);
  ctx.stores.catalog(ctx.accountId).eventCategories.delete(uuid);
  return { uuid };
}

/** What an event takes from its category. */
export interface CategoryHint {
  killChain: number;
  mitreAttack: readonly string[];
}

let catalogHints: Map<string, CategoryHint> | undefined;

function addHint(map: Map<string, CategoryHint>, c: EventCategoryView): void {
  const hint = { killChain: c.killChain, mitreAttack: c.mitreAttack };
  if (c.shortname) map.set(c.shortname.toLowerCase(), hint);
  map.set(c.name.toLowerCase(), hint);
}

/**
 * The category look-up for one write request: event category text (name or shortname,
 * case-insensitive) → kill chain phase and ATT&CK ids. The account's categories win over the
 * catalog's; in the catalog an ATT&CK tactic wins over a kill chain phase of the same name.
 * One query per request, so bulk ingest pays nothing per event.
 */
export function eventCategoryLookup(ctx: Ctx): (category: string) => CategoryHint | undefined {
  if (!catalogHints) {
    catalogHints = new Map();
    for (const c of eventCategoryCatalog()) addHint(catalogHints, c);
  }
  const base = catalogHints;
  const own = ctx.stores.catalog(ctx.accountId).eventCategories.list();
  if (own.length === 0) return (category) => base.get(category.toLowerCase());
  const map = new Map(base);
  for (const c of own) addHint(map, toEventCategoryView(c));
  return (category) => map.get(category.toLowerCase());
}
