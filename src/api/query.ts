import { invalidInput } from '../domain/errors.ts';
import type { RawCondition } from '../domain/events/search.ts';

/**
 * The query string as ordered pairs. Array and filter parameters come in three spellings
 * (ARCHITECTURE.md decision 3): the SDK's dotted repeat form, a JSON array, comma lists.
 */
export class QueryParams {
  private readonly pairs: [string, string][];

  constructor(url: string) {
    const q = url.indexOf('?');
    this.pairs = q < 0 ? [] : [...new URLSearchParams(url.slice(q + 1))];
  }

  has(name: string): boolean {
    return this.pairs.some(([k]) => k === name || k.startsWith(`${name}.`));
  }

  /** Names present that are not in `known` (for strict endpoints). */
  unknown(known: readonly string[]): string[] {
    const out = new Set<string>();
    for (const [k] of this.pairs) {
      const base = k.split('.')[0] ?? k;
      if (!known.includes(base)) out.add(base);
    }
    return [...out];
  }

  /** The single value of a scalar parameter (the last one when repeated). */
  string(name: string): string | undefined {
    let value: string | undefined;
    for (const [k, v] of this.pairs) if (k === name) value = v;
    return value;
  }

  integer(name: string, range?: { min?: number; max?: number }): number | undefined {
    const text = this.string(name);
    if (text === undefined || text === '') return undefined;
    if (!/^-?\d+$/.test(text.trim()))
      throw invalidInput(`${name}: must be an integer, got ${JSON.stringify(text)}`);
    const n = Number(text);
    if (range?.min !== undefined && n < range.min)
      throw invalidInput(`${name}: must be at least ${range.min}, got ${n}`);
    if (range?.max !== undefined && n > range.max)
      throw invalidInput(`${name}: must be at most ${range.max}, got ${n}`);
    return n;
  }

  boolean(name: string): boolean | undefined {
    const text = this.string(name);
    if (text === undefined || text === '') return undefined;
    if (text === 'true' || text === '1') return true;
    if (text === 'false' || text === '0') return false;
    throw invalidInput(`${name}: must be true or false, got ${JSON.stringify(text)}`);
  }

  /** A list parameter: repeated keys, comma-separated values, or one JSON array. */
  list(name: string, max = 1000): string[] | undefined {
    const out: string[] = [];
    let seen = false;
    for (const [k, v] of this.pairs) {
      if (k !== name && k !== `${name}[]`) continue;
      seen = true;
      const t = v.trim();
      if (t.startsWith('[')) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(t);
        } catch {
          throw invalidInput(`${name}: malformed JSON array`);
        }
        if (!Array.isArray(parsed) || parsed.some((x) => typeof x !== 'string' && typeof x !== 'number')) {
          throw invalidInput(`${name}: expected a JSON array of strings`);
        }
        out.push(...parsed.map(String));
      } else {
        out.push(
          ...t
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        );
      }
    }
    if (out.length > max) throw invalidInput(`${name}: at most ${max} values, got ${out.length}`);
    return seen ? out : undefined;
  }

  /**
   * A list of {field, op, value} conditions: `name=[{...}]` as JSON, or the SDK's
   * `name.field=…&name.op=…&name.value=…` pairs regrouped in order (a new condition starts
   * when `field` or `op` repeats; repeated `value`s accumulate into a list).
   */
  conditions(name: string, max: number): RawCondition[] | undefined {
    const out: RawCondition[] = [];
    let seen = false;
    let current: (RawCondition & { values?: string[] }) | undefined;
    const flush = () => {
      if (!current) return;
      const { values, ...rest } = current;
      if (values) rest.value = values.length === 1 && rest.op !== 'in' ? values[0] : values;
      out.push(rest);
      current = undefined;
    };
    for (const [k, v] of this.pairs) {
      if (k === name) {
        seen = true;
        flush();
        let parsed: unknown;
        try {
          parsed = JSON.parse(v);
        } catch {
          throw invalidInput(
            `${name}: expected a JSON array of {field, op, value} objects or ${name}.field/${name}.op/${name}.value pairs`,
          );
        }
        const list = Array.isArray(parsed) ? parsed : [parsed];
        for (const [i, c] of list.entries()) {
          if (!c || typeof c !== 'object' || Array.isArray(c))
            throw invalidInput(`${name}[${i}]: expected an object`);
          out.push(c as RawCondition);
        }
        continue;
      }
      if (!k.startsWith(`${name}.`)) continue;
      seen = true;
      const part = k.slice(name.length + 1);
      if (part === 'field' || part === 'op') {
        if (!current || current[part] !== undefined) {
          flush();
          current = {};
        }
        current[part] = v;
      } else if (part === 'value' || part === 'value[]') {
        if (!current) current = {};
        current.values = [...(current.values ?? []), v];
      } else {
        throw invalidInput(
          `${k}: unknown condition part; expected ${name}.field, ${name}.op or ${name}.value`,
        );
      }
    }
    flush();
    if (out.length > max) throw invalidInput(`${name}: at most ${max} conditions, got ${out.length}`);
    return seen ? out : undefined;
  }
}
