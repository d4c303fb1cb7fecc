/**
 * Event ids and uuids are written into character codes and event keys are read without a
 * regex: both must keep the exact forms the regex and string code had.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.ts';
import { eventKey, RandomIds } from '../../src/domain/ids.ts';

const SEED = Number(process.env.PROPERTY_SEED ?? 20_260_115);
const NUM_RUNS = Number(process.env.PROPERTY_RUNS ?? 20_000);

/** eventKey as it was first written. */
function referenceKey(uuid: string): number | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(uuid)) return undefined;
  const ms = Number.parseInt(uuid.slice(0, 8) + uuid.slice(9, 13), 16);
  const randA = Number.parseInt(uuid.slice(15, 18), 16);
  return ms * 1024 + (randA >> 2);
}

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Ids of every shape, and each one with a character replaced, dropped or added. */
const texts = fc
  .tuple(
    fc.oneof(
      fc.uuid(),
      fc.uuid({ version: 7 }),
      fc.stringMatching(/^[0-9a-fA-F]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/),
    ),
    fc.nat(),
    fc.constantFrom('', '0', '7', '8', 'b', 'c', 'f', 'g', 'A', '-', ' ', '\n'),
    fc.constantFrom('replace', 'insert', 'keep', 'keep'),
  )
  .map(([text, at, c, how]) => {
    const i = at % (text.length + 1);
    if (how === 'keep') return text;
    return text.slice(0, i) + c + text.slice(how === 'replace' ? i + 1 : i);
  });

describe('event ids', () => {
  it('eventKey answers what the regex reading answered', () => {
    fc.assert(
      fc.property(texts, (text) => {
        expect(eventKey(text)).toBe(referenceKey(text));
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });

  it('writes UUIDv7 event ids in key order and UUIDv4 uuids, also across clock steps back', () => {
    const clock = new ManualClock(Date.parse('2026-01-15T12:00:00Z'));
    const ids = new RandomIds(clock);
    let last = -1;
    for (let i = 0; i < 5000; i++) {
      if (i % 7 === 0) clock.advance(i % 3 === 0 ? -5 : 1);
      const id = ids.eventId();
      expect(id).toMatch(V7);
      const key = eventKey(id) as number;
      expect(key).toBe(referenceKey(id));
      expect(key).toBeGreaterThan(last);
      last = key;
      expect(ids.uuid()).toMatch(V4);
    }
    const at = Date.parse('2026-01-15T12:00:00Z');
    const fresh = new RandomIds(new ManualClock(at)).eventId();
    expect(Math.floor((eventKey(fresh) as number) / 1024)).toBe(at);
    expect(fresh.slice(0, 13)).toBe(
      `${at.toString(16).padStart(12, '0').slice(0, 8)}-${at.toString(16).padStart(12, '0').slice(8)}`,
    );
  });
});
