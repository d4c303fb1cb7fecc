import { z } from '@hono/zod-openapi';
import { findCountry } from '../../catalog/countries.ts';
import { invalidInput } from '../errors.ts';
import { parseIsoDate } from '../events/search.ts';

/** TLP markings a tag (and its annotations) may carry. */
export const TAG_TLPS = ['red', 'amber', 'amber-strict', 'green', 'clear', 'purple', 'amber+strict'] as const;
export type TagTLP = (typeof TAG_TLPS)[number];
export const TagTLPSchema = z.enum(TAG_TLPS).openapi({ description: 'Tag TLP marking', example: 'amber' });

/** Codes of the non-error messages answers may carry in the envelope's `messages`. */
export const MessageCodes = {
  /** A tag property broke a rule whose enforcement is `warn`: stored anyway. */
  propertyWarning: 1100,
} as const;

export const FIELD_KINDS = ['string', 'number', 'enum', 'date', 'array', 'object'] as const;
export const FIELD_FORMATS = ['date', 'url', 'duration', 'country'] as const;

/** One custom field of a tag category's schema (C0.9). */
export interface FieldDefinition {
  key: string;
  kind: (typeof FIELD_KINDS)[number];
  allowedValues?: string[];
  annotations?: { confidence?: boolean; tlp?: boolean };
  deprecated?: boolean;
  deprecatedValues?: string[];
  /** For `array`: the definition every element must match (its key is ignored). */
  element?: FieldDefinition;
  enforcement?: 'error' | 'warn' | 'off';
  format?: (typeof FIELD_FORMATS)[number];
  label?: string;
  maxLength?: number;
  numberConstraint?: { integer?: boolean; max?: number; min?: number };
  /** For `object`: the definitions of its members, by key. */
  properties?: Record<string, FieldDefinition>;
  required?: boolean;
}

/** The wire shape of a FieldDefinition; nested `element` and `properties` are checked by `parseSchema`. */
export const FieldDefinitionSchema = z
  .strictObject({
    key: z.string().min(1).max(128).openapi({ example: 'targetedSectors' }),
    kind: z.enum(FIELD_KINDS).openapi({ example: 'array' }),
    allowedValues: z.array(z.string().max(256)).max(1000).optional(),
    annotations: z
      .strictObject({ confidence: z.boolean().optional(), tlp: z.boolean().optional() })
      .optional(),
    deprecated: z.boolean().optional().openapi({ description: 'Keeps stored values, refuses new ones' }),
    deprecatedValues: z.array(z.string().max(256)).max(1000).optional(),
    element: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: 'For kind array: a FieldDefinition (key optional) every element must match' }),
    enforcement: z
      .enum(['error', 'warn', 'off'])
      .optional()
      .openapi({ description: 'error (default): 400; warn: stored, with a message; off: not checked' }),
    format: z.enum(FIELD_FORMATS).optional().openapi({ description: 'For kind string' }),
    label: z.string().max(256).optional(),
    maxLength: z
      .number()
      .int()
      .positive()
      .optional()
      .openapi({ description: 'Longest string, or most array items' }),
    numberConstraint: z
      .strictObject({
        integer: z.boolean().optional(),
        max: z.number().optional(),
        min: z.number().optional(),
      })
      .optional(),
    properties: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: 'For kind object (required there): member key → FieldDefinition' }),
    required: z.boolean().optional(),
  })
  .openapi('FieldDefinition');

const MAX_DEPTH = 5;

function parseDefinition(
  raw: unknown,
  path: string,
  issues: string[],
  depth: number,
): FieldDefinition | undefined {
  if (depth > MAX_DEPTH) {
    issues.push(`${path}: definitions nest at most ${MAX_DEPTH} levels deep`);
    return undefined;
  }
  const parsed = FieldDefinitionSchema.safeParse(raw);
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      const sub = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
      issues.push(`${path}${sub}: ${i.message}`);
    }
    return undefined;
  }
  const { element, properties, ...rest } = parsed.data;
  const def: FieldDefinition = rest;
  const kind = def.kind;
  if (kind === 'enum' && (!def.allowedValues || def.allowedValues.length === 0))
    issues.push(`${path}.allowedValues: required (at least one value) for kind enum`);
  if (def.deprecatedValues && def.allowedValues) {
    for (const v of def.deprecatedValues) {
      if (!def.allowedValues.includes(v))
        issues.push(`${path}.deprecatedValues: ${JSON.stringify(v)} is not one of allowedValues`);
    }
  }
  if (def.format !== undefined && kind !== 'string')
    issues.push(`${path}.format: only for kind string, not ${kind}`);
  if (def.maxLength !== undefined && kind !== 'string' && kind !== 'array')
    issues.push(`${path}.maxLength: only for kind string or array, not ${kind}`);
  if (def.numberConstraint !== undefined) {
    if (kind !== 'number') issues.push(`${path}.numberConstraint: only for kind number, not ${kind}`);
    const { min, max } = def.numberConstraint;
    if (min !== undefined && max !== undefined && min > max)
      issues.push(`${path}.numberConstraint: min ${min} is greater than max ${max}`);
  }
  if (element !== undefined) {
    if (kind !== 'array') issues.push(`${path}.element: only for kind array, not ${kind}`);
    const el = parseDefinition({ key: def.key, ...element }, `${path}.element`, issues, depth + 1);
    if (el) def.element = el;
  }
  if (kind === 'object') {
    if (properties === undefined) issues.push(`${path}.properties: required for kind object`);
    else {
      const members: Record<string, FieldDefinition> = {};
      for (const [key, member] of Object.entries(properties)) {
        const at = `${path}.properties.${key}`;
        if (!member || typeof member !== 'object' || Array.isArray(member)) {
          issues.push(`${at}: expected a FieldDefinition object`);
          continue;
        }
        const m = parseDefinition({ key, ...member }, at, issues, depth + 1);
        if (m && m.key !== key) issues.push(`${at}.key: ${JSON.stringify(m.key)} differs from its map key`);
        else if (m) members[key] = m;
      }
      def.properties = members;
    }
  } else if (properties !== undefined) issues.push(`${path}.properties: only for kind object, not ${kind}`);
  return def;
}

/** Validates a category schema (FieldDefinition[]); throws 400 listing every problem. */
export function parseSchema(raw: readonly unknown[], path = 'schema'): FieldDefinition[] {
  const issues: string[] = [];
  const out: FieldDefinition[] = [];
  const keys = new Set<string>();
  raw.forEach((item, i) => {
    const def = parseDefinition(item, `${path}[${i}]`, issues, 1);
    if (!def) return;
    if (keys.has(def.key)) issues.push(`${path}[${i}].key: duplicate key ${JSON.stringify(def.key)}`);
    keys.add(def.key);
    out.push(def);
  });
  if (issues.length) throw invalidInput(issues);
  return out;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Same JSON value, ignoring key order. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && sameJson(a[k], b[k]));
  }
  return false;
}

const YMD = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar date written YYYY-MM-DD. */
export function isCalendarDate(text: string): boolean {
  const m = YMD.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === text;
}

const DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;

function formatProblem(format: FieldDefinition['format'], v: string): string | undefined {
  switch (format) {
    case 'date':
      return isCalendarDate(v) ? undefined : `${JSON.stringify(v)} is not a date (YYYY-MM-DD)`;
    case 'url': {
      let ok = false;
      try {
        const u = new URL(v);
        ok = u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        ok = false;
      }
      return ok ? undefined : `${JSON.stringify(v)} is not an http(s) URL`;
    }
    case 'duration':
      return DURATION.test(v) ? undefined : `${JSON.stringify(v)} is not an ISO 8601 duration (e.g. P30D)`;
    case 'country':
      return /^[A-Za-z]{2,3}$/.test(v) && findCountry(v)
        ? undefined
        : `${JSON.stringify(v)} is not an ISO 3166 alpha-2 or alpha-3 country code`;
    default:
      return undefined;
  }
}

/** Problems with one value against its definition (ignoring `required`/`deprecated`, handled by the caller). */
function valueProblems(def: FieldDefinition, value: unknown, previous: unknown, path: string): string[] {
  const out: string[] = [];
  switch (def.kind) {
    case 'string': {
      if (typeof value !== 'string') return [`${path}: must be a string`];
      if (def.maxLength !== undefined && value.length > def.maxLength)
        out.push(`${path}: at most ${def.maxLength} characters, got ${value.length}`);
      const f = formatProblem(def.format, value);
      if (f) out.push(`${path}: ${f}`);
      if (def.allowedValues?.length && !def.allowedValues.includes(value))
        out.push(`${path}: must be one of ${def.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`);
      return out;
    }
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return [`${path}: must be a number`];
      const c = def.numberConstraint ?? {};
      if (c.integer && !Number.isInteger(value)) out.push(`${path}: must be an integer, got ${value}`);
      if (c.min !== undefined && value < c.min) out.push(`${path}: must be at least ${c.min}, got ${value}`);
      if (c.max !== undefined && value > c.max) out.push(`${path}: must be at most ${c.max}, got ${value}`);
      return out;
    }
    case 'enum': {
      if (typeof value !== 'string') return [`${path}: must be a string`];
      if (!(def.allowedValues ?? []).includes(value))
        return [
          `${path}: ${JSON.stringify(value)} is not one of ${(def.allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')}`,
        ];
      if (def.deprecatedValues?.includes(value) && value !== previous)
        out.push(
          `${path}: the value ${JSON.stringify(value)} is deprecated (kept where stored, refused as new)`,
        );
      return out;
    }
    case 'date':
      if (typeof value !== 'string' || (!isCalendarDate(value) && parseIsoDate(value) === undefined))
        return [`${path}: must be a date (YYYY-MM-DD) or ISO 8601 date-time`];
      return out;
    case 'array': {
      if (!Array.isArray(value)) return [`${path}: must be an array`];
      if (def.maxLength !== undefined && value.length > def.maxLength)
        out.push(`${path}: at most ${def.maxLength} items, got ${value.length}`);
      const el = def.element;
      if (el) {
        const prevItems = Array.isArray(previous) ? previous : [];
        value.forEach((item, i) => {
          const before = prevItems.find((p) => sameJson(p, item));
          out.push(...valueProblems(el, item, before, `${path}[${i}]`));
        });
      }
      return out;
    }
    case 'object': {
      if (!isPlainObject(value)) return [`${path}: must be an object`];
      const members = Object.values(def.properties ?? {});
      const level = checkLevel(members, value, isPlainObject(previous) ? previous : undefined, path);
      // Nested rules follow their own enforcement; the enclosing field only decides error vs warn for
      // problems it reports itself, so nested warnings and errors are merged by the caller.
      out.push(...level.errors, ...level.warnings.map((w) => `${WARN_MARK}${w}`));
      return out;
    }
  }
}

const WARN_MARK = '\u0000warn:';
const ANNOTATION_KEYS = new Set(['value', 'confidence', 'tlp']);

/** Unwraps an annotated `{value, confidence?, tlp?}`, checking its annotations. */
function unwrapAnnotated(
  def: FieldDefinition,
  value: unknown,
  path: string,
  problems: string[],
): { value: unknown } {
  if (def.kind === 'object' || !isPlainObject(value) || !('value' in value)) return { value };
  if (!Object.keys(value).every((k) => ANNOTATION_KEYS.has(k))) return { value };
  if (value.confidence !== undefined && value.confidence !== null) {
    if (!def.annotations?.confidence)
      problems.push(`${path}.confidence: this field takes no confidence annotation`);
    else if (typeof value.confidence !== 'number' || value.confidence < 1 || value.confidence > 10)
      problems.push(`${path}.confidence: must be a number from 1 to 10`);
  }
  if (value.tlp !== undefined && value.tlp !== null) {
    if (!def.annotations?.tlp) problems.push(`${path}.tlp: this field takes no tlp annotation`);
    else if (!(TAG_TLPS as readonly unknown[]).includes(value.tlp))
      problems.push(`${path}.tlp: must be one of ${TAG_TLPS.join(', ')}`);
  }
  return { value: value.value };
}

function checkLevel(
  defs: readonly FieldDefinition[],
  props: Record<string, unknown>,
  previous: Record<string, unknown> | undefined,
  path: string,
): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const known = new Set(defs.map((d) => d.key));
  for (const key of Object.keys(props)) {
    if (!known.has(key)) errors.push(`${path}.${key}: not a field of the category's schema`);
  }
  for (const def of defs) {
    const enforcement = def.enforcement ?? 'error';
    if (enforcement === 'off') continue;
    const at = `${path}.${def.key}`;
    const value = props[def.key];
    const before = previous?.[def.key];
    const problems: string[] = [];
    if (value === undefined || value === null) {
      if (def.required && !def.deprecated) problems.push(`${at}: is required`);
    } else if (def.deprecated) {
      if (!sameJson(value, before))
        problems.push(`${at}: the field is deprecated (stored values are kept, new ones refused)`);
    } else {
      const unwrapped = unwrapAnnotated(def, value, at, problems);
      const prevValue =
        isPlainObject(before) && 'value' in before && def.kind !== 'object' ? before.value : before;
      problems.push(...valueProblems(def, unwrapped.value, prevValue, at));
    }
    for (const p of problems) {
      if (p.startsWith(WARN_MARK)) warnings.push(p.slice(WARN_MARK.length));
      else if (enforcement === 'warn') warnings.push(p);
      else errors.push(p);
    }
  }
  return { errors, warnings };
}

/**
 * Checks tag properties against a category schema. `previous` (the stored properties) lets
 * deprecated fields and values keep what they already hold. A null or empty schema accepts anything.
 * Throws 400 for `error` problems; answers the `warn` problems as messages.
 */
export function validateProperties(
  schema: readonly FieldDefinition[] | null,
  props: Record<string, unknown>,
  previous: Record<string, unknown> | undefined,
): { code: number; message: string }[] {
  if (!schema || schema.length === 0) return [];
  const { errors, warnings } = checkLevel(schema, props, previous, 'properties');
  if (errors.length) throw invalidInput(errors);
  return warnings.map((message) => ({ code: MessageCodes.propertyWarning, message: `warning: ${message}` }));
}
