/**
 * parseIsoDate reads the usual UTC shape without its regex: it must answer exactly what the
 * general parser answers, for that shape and for near misses.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAnyIsoDate, parseIsoDate } from '../../src/domain/events/search.ts';

const SEED = Number(process.env.PROPERTY_SEED ?? 20_260_115);
const NUM_RUNS = Number(process.env.PROPERTY_RUNS ?? 20_000);

/** The general parser, which answered for every form before the fast path. */
const reference = parseAnyIsoDate;

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** Date-times of the usual shape with every field anywhere from valid to slightly out of range. */
const shaped = fc
  .record({
    year: fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(0, 99, 100, 1900, 2000, 2024, 2100)),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.integer({ min: 0, max: 32 }),
    hour: fc.integer({ min: 0, max: 25 }),
    minute: fc.integer({ min: 0, max: 60 }),
    second: fc.integer({ min: 0, max: 61 }),
    ms: fc.option(fc.integer({ min: 0, max: 999 })),
  })
  .map(
    (d) =>
      `${pad(d.year, 4)}-${pad(d.month, 2)}-${pad(d.day, 2)}T${pad(d.hour, 2)}:${pad(d.minute, 2)}:` +
      `${pad(d.second, 2)}${d.ms === null ? '' : `.${pad(d.ms, 3)}`}Z`,
  );

/** One character of a valid date-time replaced, dropped or added. */
const mangled = fc
  .tuple(
    fc
      .integer({ min: -62_000_000_000_000, max: 250_000_000_000_000 })
      .map((ms) => new Date(ms).toISOString()),
    fc.nat(),
    fc.constantFrom('', '0', '9', 'a', ' ', 'T', 'Z', '-', ':', '.', '+', '٣'),
    fc.constantFrom('replace', 'insert', 'keep'),
  )
  .map(([text, at, c, how]) => {
    const i = at % text.length;
    if (how === 'keep') return text;
    return text.slice(0, i) + c + text.slice(how === 'replace' ? i + 1 : i);
  });

describe('parseIsoDate', () => {
  it('answers what the general parser answers', () => {
    fc.assert(
      fc.property(fc.oneof(shaped, mangled), (text) => {
        expect(parseIsoDate(text)).toBe(reference(text));
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });

  it('reads leap days, the last second of a day and the end of a month', () => {
    for (const text of [
      '2024-02-29T12:00:00Z',
      '2023-02-29T12:00:00Z',
      '2000-02-29T00:00:00.000Z',
      '1900-02-29T00:00:00Z',
      '0000-02-29T00:00:00Z',
      '0099-12-31T23:59:59.999Z',
      '2024-04-31T00:00:00Z',
      '2024-12-31T23:59:59Z',
      '2024-12-31T24:00:00Z',
      '2024-11-15T02:17:22.219Z',
    ]) {
      expect(parseIsoDate(text), text).toBe(reference(text));
    }
    expect(parseIsoDate('2024-11-15T02:17:22.219Z')).toBe(Date.parse('2024-11-15T02:17:22.219Z'));
  });
});
