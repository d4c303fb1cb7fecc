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
