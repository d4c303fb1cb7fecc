import { z } from '@hono/zod-openapi';

const text = (max: number) => z.string().max(max);

/** The raw payload that came with an event. */
export const RawInputSchema = z
  .object({
    data: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: 'The original record', example: { foo: 'bar' } }),
    source: text(256)
      .optional()
      .openapi({ description: 'Where the raw record came from', example: 'feed-x' }),
    tlp: text(32).optional().openapi({ description: 'TLP of the raw record; defaults to the event TLP' }),
  })
  .openapi('RawInput');

export const IndicatorInputSchema = z
  .object({
    indicatorType: text(64)
      .min(1)
      .openapi({ description: 'Indicator type (domain, ip, url, sha256, …)', example: 'domain' }),
    value: text(4096).min(1).openapi({ description: 'Indicator value', example: 'evil.example' }),
  })
  .openapi('IndicatorInput');

/** Body of E02, and one item of E03. Unknown fields are ignored. */
export const EventInputSchema = z
  .object({
    category: text(256).min(1).openapi({ description: 'Event category', example: 'Domain Resolution' }),
    date: text(64).openapi({ description: 'When it happened (ISO 8601)', example: '2022-04-01T00:00:00Z' }),
    event: text(65536)
      .min(1)
      .openapi({ description: 'What happened', example: 'An attacker registered the domain domain.com' }),
    raw: RawInputSchema,
    tlp: text(32).min(1).openapi({ description: 'Traffic Light Protocol marking', example: 'amber' }),
    accountId: z.number().optional().openapi({ description: 'Ignored: the account comes from the path' }),
    attacker: text(256).nullable().optional().openapi({ example: 'Flying Yeti' }),
    attackerCountry: text(64)
      .optional()
      .openapi({ description: 'ISO alpha-2, alpha-3 or name', example: 'CN' }),
    datasetId: text(64).optional().openapi({ description: 'Dataset uuid; default dataset when absent' }),
    indicator: text(4096).optional().openapi({ example: 'domain.com' }),
    indicators: z.array(IndicatorInputSchema).max(1000).optional(),
    indicatorType: text(64).optional().openapi({ example: 'domain' }),
    insight: text(65536)
      .optional()
      .openapi({ example: 'This domain was likely registered for phishing purposes' }),
    tags: z
      .array(text(256))
      .max(100)
      .optional()
      .openapi({ example: ['malware'] }),
    targetCountry: text(64).optional().openapi({ example: 'US' }),
    targetIndustry: text(256).optional().openapi({ example: 'Agriculture' }),
    releasabilityId: text(256).optional(),
    killChain: z
      .number()
      .int()
      .min(0)
      .max(100)
      .optional()
      .openapi({ description: 'threatdesk extension: kill chain phase' }),
    mitreAttack: z
      .array(text(32))
      .max(100)
      .optional()
      .openapi({ description: 'threatdesk extension: ATT&CK ids' }),
    mitreCapec: z
      .array(text(32))
      .max(100)
      .optional()
      .openapi({ description: 'threatdesk extension: CAPEC ids' }),
    source: z
      .object({
        resourceId: text(256),
        resourceType: text(64),
        system: text(64),
        title: text(1024).nullable().optional(),
      })
      .optional(),
  })
  .openapi('EventCreate');
export type EventInput = z.infer<typeof EventInputSchema>;

type Fields = Record<string, unknown>;

/** A JSON object, as z.object() takes it. */
function isObject(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isText(v: unknown, min: number, max: number): boolean {
  return typeof v === 'string' && v.length >= min && v.length <= max;
}

function isOptionalText(v: unknown, max: number): boolean {
  return v === undefined || (typeof v === 'string' && v.length <= max);
}

function isOptionalTextList(v: unknown, maxItems: number, max: number): boolean {
  if (v === undefined) return true;
  if (!Array.isArray(v) || v.length > maxItems) return false;
  for (let i = 0; i < v.length; i++) {
    const s: unknown = v[i];
    if (typeof s !== 'string' || s.length > max) return false;
  }
  return true;
}

/**
 * `raw.data`: null or a plain object. An own `__proto__` key (which zod's record drops) or
 * `constructor` key, or any other prototype, is left to zod.
 */
function isRawData(v: unknown): boolean {
  if (v === null) return true;
  return (
    isObject(v) &&
    Object.getPrototypeOf(v) === Object.prototype &&
    !Object.hasOwn(v, '__proto__') &&
    !Object.hasOwn(v, 'constructor')
  );
}

function isOptionalIndicators(v: unknown): boolean {
  if (v === undefined) return true;
  if (!Array.isArray(v) || v.length > 1000) return false;
  for (let i = 0; i < v.length; i++) {
    const item: unknown = v[i];
    if (!isObject(item) || !isText(item.indicatorType, 1, 64) || !isText(item.value, 1, 4096)) return false;
  }
  return true;
}

function isOptionalSource(v: unknown): boolean {
  if (v === undefined) return true;
  if (!isObject(v)) return false;
  const title = v.title;
  return (
    isText(v.resourceId, 0, 256) &&
    isText(v.resourceType, 0, 64) &&
    isText(v.system, 0, 64) &&
    (title === null || isOptionalText(title, 1024))
  );
}

/**
 * True when EventInputSchema accepts the JSON value `v` as it is: the bulk path checks items
 * with this first, without zod's copy of every object and array, and runs zod only on the items
 * it turns down (so their messages are zod's). It says no to nothing that is valid JSON the
 * schema takes, except the rare cases left to zod (see isRawData). What it says yes to may carry
 * unknown keys, which the schema would strip: readers take the fields they know, never the whole
 * object. Keep it in step with EventInputSchema; test/events/fast-input.test.ts compares them.
 */
export function isEventInput(v: unknown): v is EventInput {
  if (!isObject(v)) return false;
  const raw = v.raw;
  if (
    !isText(v.category, 1, 256) ||
    !isText(v.date, 0, 64) ||
    !isText(v.event, 1, 65536) ||
    !isText(v.tlp, 1, 32) ||
    !isObject(raw) ||
    !isRawData(raw.data) ||
    !isOptionalText(raw.source, 256) ||
    !isOptionalText(raw.tlp, 32)
  ) {
    return false;
  }
  const accountId = v.accountId;
  if (accountId !== undefined && !(typeof accountId === 'number' && Number.isFinite(accountId))) return false;
  const attacker = v.attacker;
  if (attacker !== null && !isOptionalText(attacker, 256)) return false;
  const killChain = v.killChain;
  if (
    killChain !== undefined &&
    !(typeof killChain === 'number' && Number.isInteger(killChain) && killChain >= 0 && killChain <= 100)
  ) {
    return false;
  }
  return (
    isOptionalText(v.attackerCountry, 64) &&
    isOptionalText(v.datasetId, 64) &&
    isOptionalText(v.indicator, 4096) &&
    isOptionalText(v.indicatorType, 64) &&
    isOptionalText(v.insight, 65536) &&
    isOptionalText(v.targetCountry, 64) &&
    isOptionalText(v.targetIndustry, 256) &&
    isOptionalText(v.releasabilityId, 256) &&
    isOptionalIndicators(v.indicators) &&
    isOptionalTextList(v.tags, 100, 256) &&
    isOptionalTextList(v.mitreAttack, 100, 32) &&
    isOptionalTextList(v.mitreCapec, 100, 32) &&
    isOptionalSource(v.source)
  );
}

/** Body of E06/E07: a partial edit; `datasetId` names the dataset that holds the event. */
export const EventEditSchema = z
  .object({
    datasetId: text(64).min(1).openapi({ description: 'Dataset containing the event' }),
    attacker: text(256).nullable().optional(),
    attackerCountry: text(64).optional(),
    category: text(256).min(1).optional(),
    createdAt: text(64).optional(),
    date: text(64).optional(),
    event: text(65536).min(1).optional(),
    indicator: text(4096).optional(),
    indicatorType: text(64).optional(),
    insight: text(65536).optional(),
    targetCountry: text(64).optional(),
    targetIndustry: text(256).optional(),
    tlp: text(32).min(1).optional(),
    raw: z
      .object({
        data: z.record(z.string(), z.unknown()).nullable().optional(),
        source: text(256).optional(),
        tlp: text(32).optional(),
      })
      .optional(),
  })
  .openapi('EventEdit');
export type EventEdit = z.infer<typeof EventEditSchema>;

/** Body of E17/E18. */
export const RawEditSchema = z
  .object({
    data: z.unknown().optional(),
    source: text(256).optional(),
    tlp: text(32).optional(),
  })
  .openapi('RawEdit');
export type RawEdit = z.infer<typeof RawEditSchema>;

/** Renders zod issues as `path: message` lines, all of them. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string[] {
  return issues.map((i) => {
    const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    const where = `${prefix}${path}`.replace(/^\./, '') || 'body';
    return `${where}: ${i.message}`;
  });
}
