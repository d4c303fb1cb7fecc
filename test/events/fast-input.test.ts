/**
 * isEventInput, the bulk path's check before zod, must agree with EventInputSchema on JSON
 * values: yes exactly when the schema says yes (so no invalid item gets through and no valid
 * one pays for zod), and what it takes holds every field of the schema's output unchanged.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventInputSchema, isEventInput } from '../../src/domain/events/input.ts';

const SEED = Number(process.env.PROPERTY_SEED ?? 20_260_115);
const NUM_RUNS = Number(process.env.PROPERTY_RUNS ?? 3000);

/** Mostly a valid value, now and then one the schema refuses (or any JSON value). */
const mostly = <T, U>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<U>) =>
  fc.oneof({ weight: 60, arbitrary: valid }, { weight: 1, arbitrary: invalid });

const notText = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({}));

/** Text within [min, max] (short, or exactly at the limit), or just outside, or not text. */
const text = (min: number, max: number) =>
  mostly(
    fc.oneof(
      { weight: 8, arbitrary: fc.string({ minLength: min, maxLength: Math.min(max, 12) }) },
      { weight: 1, arbitrary: fc.constant('x'.repeat(max)) },
    ),
    fc.oneof(fc.constant('y'.repeat(max + 1)), min > 0 ? fc.constant('') : notText, notText),
  );

/** An optional field (absent when the record leaves it out); null only where the schema says. */
const optional = <T>(arb: fc.Arbitrary<T>, nullable = false) =>
  nullable ? fc.oneof(arb, fc.constant(null)) : mostly(arb, fc.constant(null));

const kill = mostly(
  fc.integer({ min: 0, max: 100 }),
  fc.oneof(
    fc.constantFrom(-1, 101, 0.5, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 2),
    fc.double({ noNaN: true }),
    fc.string({ maxLength: 2 }),
  ),
);
const accountNumber = mostly(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(Number.POSITIVE_INFINITY, '1'),
);

const textList = (maxItems: number, max: number) =>
  mostly(
    fc.array(text(0, max), { maxLength: 4 }),
    fc.oneof(fc.constant(Array.from({ length: maxItems + 1 }, () => 't')), fc.constant('not a list')),
  );

const indicator = mostly(
  fc.record(
    { indicatorType: text(1, 64), value: text(1, 4096), note: fc.string() },
    { requiredKeys: ['indicatorType', 'value'] },
  ),
  fc.oneof(fc.constant(null), fc.constant('domain'), fc.constant([])),
);

const rawData = mostly(
  fc.oneof(
    fc.constant(null),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  ),
  fc.oneof(fc.constant({ constructor: 'x', a: 1 }), fc.constant([1, 2]), fc.constant('text')),
);

const item = fc.record(
  {
    category: text(1, 256),
    date: text(0, 64),
    event: text(1, 65536),
    raw: mostly(
      fc.record(
        {
          data: rawData,
          source: optional(text(0, 256)),
          tlp: optional(text(0, 32)),
          extra: fc.string(),
        },
        { requiredKeys: ['data'] },
      ),
      fc.oneof(fc.constant(null), fc.constant([]), fc.constant({ source: 'no data' })),
    ),
    tlp: text(1, 32),
    accountId: optional(accountNumber),
    attacker: optional(text(0, 256), true),
    attackerCountry: optional(text(0, 64)),
    datasetId: optional(text(0, 64)),
    indicator: optional(text(0, 4096)),
    indicators: optional(
      mostly(
        fc.array(indicator, { maxLength: 3 }),
        fc.constant(Array.from({ length: 1001 }, () => ({ indicatorType: 'ip', value: '1.2.3.4' }))),
      ),
    ),
    indicatorType: optional(text(0, 64)),
    insight: optional(text(0, 65536)),
    tags: optional(textList(100, 256)),
    targetCountry: optional(text(0, 64)),
    targetIndustry: optional(text(0, 256)),
    releasabilityId: optional(text(0, 256)),
    killChain: optional(kill),
    mitreAttack: optional(textList(100, 32)),
    mitreCapec: optional(textList(100, 32)),
    source: optional(
      mostly(
        fc.record(
          {
            resourceId: text(0, 256),
            resourceType: text(0, 64),
            system: text(0, 64),
            title: optional(text(0, 1024), true),
            more: fc.string(),
          },
          { requiredKeys: ['resourceId', 'resourceType', 'system'] },
        ),
        fc.oneof(fc.constant({ resourceId: 'r' }), fc.constant('source')),
      ),
    ),
    unknownField: fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: ['category', 'date', 'event', 'raw', 'tlp'] },
);

/** Now and then without one of the required fields. */
const REQUIRED = ['category', 'date', 'event', 'raw', 'tlp'] as const;
const items = fc
  .tuple(item, mostly(fc.constant(undefined), fc.constantFrom(...REQUIRED)))
  .map(([value, drop]) => {
    const copy: Record<string, unknown> = { ...value };
    if (drop) delete copy[drop];
    return copy;
  });

/** Through JSON text and back, as a request body arrives; Infinity stays (JSON.parse makes it of 1e999). */
const asJson = (v: unknown): unknown =>
  JSON.parse(
    JSON.stringify(v, (_k, x) => (x === Number.POSITIVE_INFINITY ? 'INF' : x)),
    (_k, x) => (x === 'INF' ? Number.POSITIVE_INFINITY : x),
  );

describe('isEventInput', () => {
  it('agrees with EventInputSchema on every JSON item, and keeps every field of its output', () => {
    let accepted = 0;
    fc.assert(
      fc.property(items, (generated) => {
        const value = asJson(generated);
        const parsed = EventInputSchema.safeParse(value);
        const fast = isEventInput(value);
        const rawData = (value as { raw?: { data?: unknown } }).raw?.data;
        const leftToZod =
          typeof rawData === 'object' && rawData !== null && Object.hasOwn(rawData, 'constructor');
        if (leftToZod) expect(fast).toBe(false);
        else expect(fast).toBe(parsed.success);
        if (fast && parsed.success) {
          accepted++;
          expect(value).toMatchObject(parsed.data);
        }
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
    // The generator must reach both answers often enough to mean something.
    expect(accepted).toBeGreaterThan(NUM_RUNS / 5);
    expect(accepted).toBeLessThan(NUM_RUNS * 0.9);
  });

  it('knows every field of the schema (a new field needs a check in isEventInput and here)', () => {
    expect(Object.keys(EventInputSchema.shape).sort()).toEqual(
      [
        'accountId',
        'attacker',
        'attackerCountry',
        'category',
        'datasetId',
        'date',
        'event',
        'indicator',
        'indicatorType',
        'indicators',
        'insight',
        'killChain',
        'mitreAttack',
        'mitreCapec',
        'raw',
        'releasabilityId',
        'source',
        'tags',
        'targetCountry',
        'targetIndustry',
        'tlp',
      ].sort(),
    );
    expect(Object.keys(EventInputSchema.shape.raw.shape).sort()).toEqual(['data', 'source', 'tlp']);
    expect(Object.keys(EventInputSchema.shape.source.unwrap().shape).sort()).toEqual([
      'resourceId',
      'resourceType',
      'system',
      'title',
    ]);
    expect(Object.keys(EventInputSchema.shape.indicators.unwrap().element.shape).sort()).toEqual([
      'indicatorType',
      'value',
    ]);
  });

  it('leaves an own __proto__ key in raw.data to zod, which drops it', () => {
    const value = JSON.parse(
      '{"category":"c","date":"2024-01-01","event":"e","tlp":"amber","raw":{"data":{"__proto__":{"a":1},"b":2}}}',
    );
    expect(isEventInput(value)).toBe(false);
    const parsed = EventInputSchema.safeParse(value);
    expect(parsed.success).toBe(true);
    expect(Object.keys(parsed.data?.raw.data ?? {})).toEqual(['b']);
  });

  it('says yes to a typical feed item and no to what is not an object', () => {
    const good = {
      category: 'malware',
      date: '2024-11-15T02:17:22.219Z',
      event: 'seen',
      tlp: 'green',
      raw: { source: 'feed', data: { value: 'x' } },
      indicators: [{ indicatorType: 'domain', value: 'evil.example' }],
      tags: ['a'],
      killChain: 3,
      source: { resourceId: 'r', resourceType: 't', system: 's', title: null },
    };
    expect(isEventInput(good)).toBe(true);
    for (const bad of [null, [], 'x', 1, { ...good, raw: undefined }, { ...good, killChain: 3.5 }]) {
      expect(isEventInput(bad)).toBe(false);
    }
  });
});
