/**
 * Domains and IPv4 addresses are checked character by character instead of by split and
 * regex: normalizeIndicator and guessIndicatorType must answer exactly as the regex versions
 * (kept here as the reference) did.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { guessIndicatorType, normalizeIndicator } from '../../src/domain/indicators/normalize.ts';

const SEED = Number(process.env.PROPERTY_SEED ?? 20_260_115);
const NUM_RUNS = Number(process.env.PROPERTY_RUNS ?? 20_000);

function referenceIpv4(value: string): string | undefined {
  const parts = value.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out.join('.');
}

function referenceDomain(value: string): string | undefined {
  const v = value.toLowerCase().replace(/\.$/, '');
  if (v.length === 0 || v.length > 253) return undefined;
  const labels = v.split('.');
  if (labels.length < 2 && v !== 'localhost') return undefined;
  return labels.every((l) => /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/.test(l) || /^xn--[a-z0-9-]+$/.test(l))
    ? v
    : undefined;
}

/** normalizeIndicator's answer for a type whose check is `check`. */
function expected(type: string, raw: string, check: (v: string) => string | undefined, what: string) {
  const value = raw.trim();
  if (!value) return { ok: false, error: 'indicator value is empty' };
  const v = check(value);
  return v === undefined
    ? { ok: false, error: `${JSON.stringify(raw)} is not ${what} (indicatorType ${JSON.stringify(type)})` }
    : { ok: true, type, value: v };
}

/** guessIndicatorType for values without a colon (so never IPv6). */
function referenceGuess(value: string): string {
  const v = value.trim();
  if (referenceIpv4(v)) return 'ip';
  if (/^[0-9a-f]+$/i.test(v)) {
    const byLength: Record<number, string> = { 32: 'md5', 40: 'sha1', 64: 'sha256', 128: 'sha512' };
    if (byLength[v.length]) return byLength[v.length] as string;
  }
  if (v.startsWith('/')) return 'url-path';
  if (v.includes('@') && referenceDomain(v.slice(v.lastIndexOf('@') + 1))) return 'email';
  if (referenceDomain(v)) return 'domain';
  if (v.includes('/')) return 'url';
  return 'unknown';
}

const unit = fc.constantFrom(
  ...'abcxyzn0123456789-_.'.split(''),
  'xn--',
  'xn--a_-',
  '.',
  '..',
  'A',
  'Z',
  'İ',
  'é',
  ' ',
  '@',
  '/',
  '00',
  '255',
  '256',
  '1000',
  'localhost',
);
/** Short texts of domain and address pieces, and labels and names around the length limits. */
const values = fc.oneof(
  fc.string({ unit, maxLength: 12 }),
  fc
    .tuple(
      fc.integer({ min: 0, max: 300 }),
      fc.integer({ min: 0, max: 300 }),
      fc.string({ unit, maxLength: 3 }),
    )
    .map(([a, b, tail]) => `${a}.0${b}.${b}.${a}${tail}`),
  fc
    .tuple(
      fc.integer({ min: 60, max: 66 }),
      fc.constantFrom('a', '-', '_', 'xn--a'),
      fc.constantFrom('', '.', '-'),
    )
    .map(([n, c, end]) => `${c}${'b'.repeat(n - c.length)}${end}.example`),
  fc
    .tuple(fc.integer({ min: 248, max: 256 }), fc.constantFrom('', '.'))
    .map(([n, end]) => `${'a.'.repeat(Math.floor((n - 1) / 2))}${n % 2 ? 'a' : 'ab'}${end}`),
);

describe('domain and IPv4 checks', () => {
  it('answer what the split-and-regex checks answered', () => {
    fc.assert(
      fc.property(values, (raw) => {
        expect(normalizeIndicator('domain', raw)).toEqual(
          expected('domain', raw, referenceDomain, 'a domain name'),
        );
        expect(normalizeIndicator('ipv4', raw)).toEqual(
          expected('ipv4', raw, referenceIpv4, 'an IPv4 address'),
        );
        if (!raw.includes(':')) {
          expect(normalizeIndicator('ip', raw)).toEqual(
            expected('ip', raw, referenceIpv4, 'an IPv4 or IPv6 address'),
          );
          expect(guessIndicatorType(raw)).toBe(referenceGuess(raw));
        }
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });

  it('keep the canonical spellings', () => {
    expect(normalizeIndicator('ip', '010.001.002.003')).toEqual({ ok: true, type: 'ip', value: '10.1.2.3' });
    expect(normalizeIndicator('ipv4', '192.0.2.44')).toEqual({ ok: true, type: 'ipv4', value: '192.0.2.44' });
    expect(normalizeIndicator('domain', 'Login.EXAMPLE.com.')).toEqual({
      ok: true,
      type: 'domain',
      value: 'login.example.com',
    });
    expect(normalizeIndicator('domain', 'xn--80ak6aa92e.com').ok).toBe(true);
    expect(normalizeIndicator('domain', 'xn--a-.com').ok).toBe(true);
    expect(normalizeIndicator('domain', 'xn--a_-.com').ok).toBe(false);
    expect(normalizeIndicator('domain', 'ab-.com').ok).toBe(false);
    expect(normalizeIndicator('domain', '-ab.com').ok).toBe(false);
    expect(normalizeIndicator('domain', '_dmarc.example.com').ok).toBe(true);
    expect(normalizeIndicator('domain', 'localhost').ok).toBe(true);
    expect(normalizeIndicator('domain', 'intranet').ok).toBe(false);
  });
});
