import { invalidInput } from '../errors.ts';

/** Search operators of the events list (E01). */
export const OPS = [
  'equals',
  'not',
  'gt',
  'gte',
  'lt',
  'lte',
  'like',
  'contains',
  'startsWith',
  'endsWith',
  'find',
  'in',
] as const;
export type Op = (typeof OPS)[number];

export const STRING_FIELDS = [
  'attacker',
  'attackerCountry',
  'category',
  'event',
  'indicator',
  'indicatorType',
  'targetCountry',
  'targetIndustry',
  'tlp',
  'uuid',
] as const;
export const DATE_FIELDS = ['date', 'createdAt'] as const;
export const ARRAY_FIELDS = ['tags', 'mitreAttack', 'mitreCapec'] as const;
export const SEARCH_FIELDS = [
  ...STRING_FIELDS,
  ...DATE_FIELDS,
  ...ARRAY_FIELDS,
  'killChain',
  'hasChildren',
] as const;
export type SearchField = (typeof SEARCH_FIELDS)[number];

/** A search condition after validation: values have their stored types (dates as epoch ms). */
export type Condition =
  | { kind: 'string'; field: (typeof STRING_FIELDS)[number]; op: Op; value: string | string[] }
  | { kind: 'date'; field: (typeof DATE_FIELDS)[number]; op: Op; value: number | number[] }
  | { kind: 'array'; field: (typeof ARRAY_FIELDS)[number]; op: Op; value: string | string[] }
  | { kind: 'number'; field: 'killChain' | 'hasChildren'; op: Op; value: number | number[] };

/** A condition as the client sent it, before validation. */
export interface RawCondition {
  field?: unknown;
  op?: unknown;
  value?: unknown;
}

export const MAX_CONDITIONS = 20;
export const MAX_IN_VALUES = 100;
const MAX_VALUE_LENGTH = 1024;

const COMPARE_OPS: readonly Op[] = ['equals', 'not', 'gt', 'gte', 'lt', 'lte', 'in'];
const TEXT_OPS: readonly Op[] = ['equals', 'not', 'in', 'like', 'contains', 'startsWith', 'endsWith', 'find'];

/** The number written by the `n` digits at `from`, or -1 when one of them is not a digit. */
function digitsAt(text: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The common shape, UTC as toISOString writes it (`2024-11-15T02:17:22.219Z`, or without the
 * milliseconds), read without a regex or a Date: epoch ms when the text is a valid date-time of
 * that shape from the year 100 on; undefined for anything else, which the full parser decides.
 */
function parseUtcDateTime(text: string): number | undefined {
  const n = text.length;
  if (n !== 20 && n !== 24) return undefined;
  if (
    text.charCodeAt(4) !== 45 || // -
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 84 || // T
    text.charCodeAt(13) !== 58 || // :
    text.charCodeAt(16) !== 58 ||
    text.charCodeAt(n - 1) !== 90 || // Z
    (n === 24 && text.charCodeAt(19) !== 46) // .
  ) {
    return undefined;
  }
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  const ms = n === 24 ? digitsAt(text, 20, 3) : 0;
  // Date.UTC reads the years 0–99 as 1900–1999: those are left to the full parser.
  if (year < 100 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return undefined;
  if (minute < 0 || minute > 59 || second < 0 || second > 59 || ms < 0) return undefined;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number);
  if (day > days) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/** Parses an ISO 8601 date or date-time into epoch ms, or undefined. */
export function parseIsoDate(text: string): number | undefined {
  return parseUtcDateTime(text) ?? parseAnyIsoDate(text);
}

/** parseIsoDate for every form it takes (the usual UTC date-time has a faster path above). */
export function parseAnyIsoDate(text: string): number | undefined {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})([T ](\d{2}):(\d{2})(:(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(text);
  if (!m) return undefined;
  // Date.parse rolls impossible dates over (2025-02-30 becomes March 2); refuse them instead.
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return undefined;
  if (Number(m[5] ?? 0) > 23 || Number(m[6] ?? 0) > 59 || Number(m[8] ?? 0) > 59) return undefined;
  const withZone = /T|\s/.test(text) && !/(Z|[+-]\d{2}:?\d{2})$/.test(text) ? `${text}Z` : text;
  const ms = Date.parse(withZone.replace(' ', 'T'));
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Validates the client's search conditions and gives them their stored types.
 * Every problem is reported, each naming the condition by its index.
 */
export function validateConditions(raw: readonly RawCondition[], where = 'search'): Condition[] {
  const issues: string[] = [];
  const out: Condition[] = [];
  if (raw.length > MAX_CONDITIONS) {
    throw invalidInput(`${where}: at most ${MAX_CONDITIONS} conditions are allowed, got ${raw.length}`);
  }
  raw.forEach((c, i) => {
    const at = `${where}[${i}]`;
    const field = c.field;
    const op = c.op ?? 'equals';
    if (typeof field !== 'string' || !(SEARCH_FIELDS as readonly string[]).includes(field)) {
      issues.push(
        `${at}.field: unknown field ${JSON.stringify(field)}; expected one of ${SEARCH_FIELDS.join(', ')}`,
      );
      return;
    }
    if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) {
      issues.push(`${at}.op: unknown op ${JSON.stringify(op)}; expected one of ${OPS.join(', ')}`);
      return;
    }
    const typedOp = op as Op;
    let values: unknown[];
    if (typedOp === 'in') {
      values = Array.isArray(c.value) ? c.value : c.value === undefined ? [] : [c.value];
      if (values.length === 0) {
        issues.push(`${at}.value: op "in" needs at least one value`);
        return;
      }
      if (values.length > MAX_IN_VALUES) {
        issues.push(`${at}.value: op "in" takes at most ${MAX_IN_VALUES} values, got ${values.length}`);
        return;
      }
    } else {
      if (Array.isArray(c.value)) {
        if (c.value.length !== 1) {
          issues.push(`${at}.value: op "${op}" takes one value, not a list`);
          return;
        }
        values = c.value;
      } else values = [c.value];
      if (values[0] === undefined || values[0] === null || values[0] === '') {
        issues.push(`${at}.value: a value is required`);
        return;
      }
    }
    if (typedOp === 'find' && !values.some((v) => /[\p{L}\p{N}]/u.test(String(v)))) {
      issues.push(`${at}.value: op "find" needs at least one word (letters or digits)`);
      return;
    }
    const one = typedOp !== 'in';
    if (field === 'killChain' || field === 'hasChildren') {
      if (!COMPARE_OPS.includes(typedOp)) {
        issues.push(`${at}.op: "${op}" is not supported for ${field}; use ${COMPARE_OPS.join(', ')}`);
        return;
      }
      const nums: number[] = [];
      for (const v of values) {
        const n = field === 'hasChildren' ? toBool(v) : toNumber(v);
        if (n === undefined) {
          issues.push(
            `${at}.value: ${JSON.stringify(v)} is not a ${field === 'hasChildren' ? 'boolean' : 'number'}`,
          );
          return;
        }
        nums.push(n);
      }
      out.push({ kind: 'number', field, op: typedOp, value: one ? (nums[0] as number) : nums });
      return;
    }
    const strings: string[] = [];
    for (const v of values) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        issues.push(`${at}.value: expected a string, got ${JSON.stringify(v)}`);
        return;
      }
      const s = String(v);
      if (s.length > MAX_VALUE_LENGTH) {
        issues.push(`${at}.value: longer than ${MAX_VALUE_LENGTH} characters`);
        return;
      }
      strings.push(s);
    }
    if (field === 'date' || field === 'createdAt') {
      if (!COMPARE_OPS.includes(typedOp)) {
        issues.push(`${at}.op: "${op}" is not supported for ${field}; use ${COMPARE_OPS.join(', ')}`);
        return;
      }
      const ms: number[] = [];
      for (const s of strings) {
        const t = parseIsoDate(s);
        if (t === undefined) {
          issues.push(`${at}.value: ${JSON.stringify(s)} is not an ISO 8601 date`);
          return;
        }
        ms.push(t);
      }
      out.push({ kind: 'date', field, op: typedOp, value: one ? (ms[0] as number) : ms });
      return;
    }
    if (field === 'tags' || field === 'mitreAttack' || field === 'mitreCapec') {
      if (!TEXT_OPS.includes(typedOp)) {
        issues.push(
          `${at}.op: "${op}" is not supported for the list field ${field}; use ${TEXT_OPS.join(', ')}`,
        );
        return;
      }
      out.push({ kind: 'array', field, op: typedOp, value: one ? (strings[0] as string) : strings });
      return;
    }
    const normalized = field === 'indicatorType' ? strings.map((s) => s.toLowerCase()) : strings;
    if (field === 'indicator' && (typedOp === 'equals' || typedOp === 'in' || typedOp === 'not')) {
      // Domains, hashes and e-mails are stored folded (normalizeIndicator), so the value as the
      // client wrote it at create time must also find its folded form. Indicator conditions match
      // any of a list of values, so both spellings go in.
      const both = [...new Set(normalized.flatMap((s) => [s, foldIndicatorValue(s)]))];
      out.push({ kind: 'string', field, op: typedOp, value: both.length === 1 ? (both[0] as string) : both });
      return;
    }
    out.push({
      kind: 'string',
      field: field as (typeof STRING_FIELDS)[number],
      op: typedOp,
      value: one ? (normalized[0] as string) : normalized,
    });
  });
  if (issues.length > 0) throw invalidInput(issues);
  return out;
}

/** The folded spelling of an indicator value: lower case, no trailing dot (as stored for domains). */
function foldIndicatorValue(value: string): string {
  return value.trim().toLowerCase().replace(/\.$/, '');
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

function toBool(v: unknown): number | undefined {
  if (v === true || v === 'true' || v === 1 || v === '1') return 1;
  if (v === false || v === 'false' || v === 0 || v === '0') return 0;
  return undefined;
}
