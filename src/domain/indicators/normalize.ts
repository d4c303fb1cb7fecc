/**
 * Indicator identity: a type and a canonical value. Values are validated against their type
 * and folded to one spelling (domains and hashes lower-case, IPs canonical, IPv6 compressed
 * per RFC 5952), so the same indicator is one record however it was written.
 */

/** Type names as clients send them, mapped to ours. */
const TYPE_ALIASES: Readonly<Record<string, string>> = {
  'ip-src': 'ip',
  'ip-dst': 'ip',
  ipaddress: 'ip',
  'ip-address': 'ip',
  hostname: 'domain',
  fqdn: 'domain',
  'sha-256': 'sha256',
  'sha-1': 'sha1',
  'md-5': 'md5',
  'email-addr': 'email',
  'email-src': 'email',
  uri: 'url',
  link: 'url',
  'ja3-fingerprint': 'ja3',
  urlpath: 'url-path',
};

const HEX = /^[0-9a-f]+$/;
const MD5_LENGTH = [32];
const SHA1_LENGTH = [40];
const SHA256_LENGTH = [64];
const SHA512_LENGTH = [128];
const ANY_HASH_LENGTH = [32, 40, 64, 128];

/**
 * Four dot-separated groups of 1-3 ASCII digits, each at most 255, written without leading
 * zeros. Read character by character: the text itself is the answer unless a group had a
 * leading zero.
 */
function ipv4(value: string): string | undefined {
  let groups = 0;
  let digits = 0;
  let n = 0;
  let padded = false;
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : 46; // a final '.' closes the last group
    if (c === 46) {
      if (digits === 0 || n > 255 || ++groups > 4) return undefined;
      digits = 0;
      n = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 3) return undefined;
      if (digits === 1 && n === 0) padded = true;
      digits++;
      n = n * 10 + (c - 48);
    } else return undefined;
  }
  if (groups !== 4) return undefined;
  return padded ? value.split('.').map(Number).join('.') : value;
}

function ipv6(value: string): string | undefined {
  let text = value.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const v4 = ipv4(text.slice(lastColon + 1));
    if (!v4) return undefined;
    const o = v4.split('.').map(Number) as [number, number, number, number];
    tail = [(o[0] << 8) | o[1], (o[2] << 8) | o[3]];
    text = `${text.slice(0, lastColon + 1)}${tail.length ? '0:0' : ''}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] | undefined => {
    if (s === '') return [];
    const groups = s.split(':');
    const out: number[] = [];
    for (const g of groups) {
      if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0] ?? '');
  const rest = halves.length === 2 ? parse(halves[1] ?? '') : [];
  if (!head || !rest) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - rest.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...rest];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return undefined;
  if (tail.length === 2) {
    groups[6] = tail[0] as number;
    groups[7] = tail[1] as number;
  }
  // RFC 5952: compress the longest run (≥ 2) of zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/**
 * One label of a domain, `v` from `from` to `to`: 1-63 of a-z 0-9 _ - not starting or ending
 * with -, or a punycode label (xn-- then a-z 0-9 -, any length).
 */
function isLabel(v: string, from: number, to: number): boolean {
  let underscore = false;
  for (let i = from; i < to; i++) {
    const c = v.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45) continue;
    if (c !== 95) return false;
    underscore = true;
  }
  const n = to - from;
  if (n >= 1 && n <= 63 && v.charCodeAt(from) !== 45 && v.charCodeAt(to - 1) !== 45) return true;
  return !underscore && n >= 5 && v.startsWith('xn--', from);
}

/** Lower-cased, without one trailing dot: at least two labels (or localhost), 253 characters at most. */
function domain(value: string): string | undefined {
  const lowered = value.toLowerCase();
  const v = lowered.charCodeAt(lowered.length - 1) === 46 ? lowered.slice(0, -1) : lowered;
  if (v.length === 0 || v.length > 253) return undefined;
  let labels = 0;
  let start = 0;
  for (let i = 0; i <= v.length; i++) {
    if (i < v.length && v.charCodeAt(i) !== 46) continue;
    if (!isLabel(v, start, i)) return undefined;
    labels++;
    start = i + 1;
  }
  if (labels < 2 && v !== 'localhost') return undefined;
  return v;
}

function hash(value: string, lengths: readonly number[]): string | undefined {
  const v = value.toLowerCase();
  return HEX.test(v) && lengths.includes(v.length) ? v : undefined;
}

/** Why a value does not fit its type. A plain function, not a closure: this runs once per indicator. */
function notA(rawType: string, rawValue: string, what: string): NormalizedIndicator {
  return {
    ok: false,
    error: `${JSON.stringify(rawValue)} is not ${what} (indicatorType ${JSON.stringify(rawType)})`,
  };
}

/** The canonical value when there is one, otherwise why not. */
function checked(
  type: string,
  v: string | undefined,
  rawType: string,
  rawValue: string,
  what: string,
): NormalizedIndicator {
  return v === undefined ? notA(rawType, rawValue, what) : { ok: true, type, value: v };
}

/** A validated indicator, or the reason it is not one. */
export type NormalizedIndicator = { ok: true; type: string; value: string } | { ok: false; error: string };

/** Canonical type and value, or why the value does not fit its type. */
export function normalizeIndicator(rawType: string, rawValue: string): NormalizedIndicator {
  const lowered = rawType.trim().toLowerCase();
  const type = TYPE_ALIASES[lowered] ?? lowered;
  const value = rawValue.trim();
  if (!value) return { ok: false, error: 'indicator value is empty' };
  switch (type) {
    case 'ip': {
      const v4 = ipv4(value);
      return v4
        ? { ok: true, type, value: v4 }
        : checked(type, ipv6(value), rawType, rawValue, 'an IPv4 or IPv6 address');
    }
    case 'ipv4':
      return checked(type, ipv4(value), rawType, rawValue, 'an IPv4 address');
    case 'ipv6':
      return checked(type, ipv6(value), rawType, rawValue, 'an IPv6 address');
    case 'cidr': {
      const [addr, prefix, ...extra] = value.split('/');
      if (extra.length || addr === undefined || prefix === undefined || !/^\d{1,3}$/.test(prefix)) {
        return notA(rawType, rawValue, 'a CIDR block');
      }
      const v4 = ipv4(addr);
      if (v4 && Number(prefix) <= 32) return { ok: true, type, value: `${v4}/${Number(prefix)}` };
      const v6 = ipv6(addr);
      if (v6 && Number(prefix) <= 128) return { ok: true, type, value: `${v6}/${Number(prefix)}` };
      return notA(rawType, rawValue, 'a CIDR block');
    }
    case 'domain':
      return checked(type, domain(value), rawType, rawValue, 'a domain name');
    case 'md5':
      return checked(type, hash(value, MD5_LENGTH), rawType, rawValue, 'an MD5 hash (32 hex characters)');
    case 'sha1':
      return checked(type, hash(value, SHA1_LENGTH), rawType, rawValue, 'a SHA-1 hash (40 hex characters)');
    case 'sha256':
      return checked(
        type,
        hash(value, SHA256_LENGTH),
        rawType,
        rawValue,
        'a SHA-256 hash (64 hex characters)',
      );
    case 'sha512':
      return checked(
        type,
        hash(value, SHA512_LENGTH),
        rawType,
        rawValue,
        'a SHA-512 hash (128 hex characters)',
      );
    case 'ja3':
    case 'ja3s':
      return checked(
        type,
        hash(value, MD5_LENGTH),
        rawType,
        rawValue,
        `a ${type.toUpperCase()} fingerprint (32 hex characters)`,
      );
    case 'hash': {
      const v = hash(value, ANY_HASH_LENGTH);
      if (v === undefined) return notA(rawType, rawValue, 'an MD5, SHA-1, SHA-256 or SHA-512 hash');
      const specific = { 32: 'md5', 40: 'sha1', 64: 'sha256', 128: 'sha512' }[v.length as 32] ?? 'hash';
      return { ok: true, type: specific, value: v };
    }
    case 'email': {
      const at = value.lastIndexOf('@');
      const d = at > 0 ? domain(value.slice(at + 1)) : undefined;
      return d && !/\s/.test(value.slice(0, at))
        ? { ok: true, type, value: `${value.slice(0, at)}@${d}` }
        : notA(rawType, rawValue, 'an email address');
    }
    case 'url': {
      if (/\s/.test(value)) return notA(rawType, rawValue, 'a URL');
      const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]+)(.*)$/i.exec(value);
      if (m)
        return {
          ok: true,
          type,
          value: `${(m[1] as string).toLowerCase()}://${(m[2] as string).toLowerCase()}${m[3]}`,
        };
      const slash = value.indexOf('/');
      const host = slash < 0 ? value : value.slice(0, slash);
      return /^[^\s/]+\.[^\s/]+$/.test(host)
        ? { ok: true, type, value: host.toLowerCase() + (slash < 0 ? '' : value.slice(slash)) }
        : notA(rawType, rawValue, 'a URL');
    }
    case 'url-path':
      return value.startsWith('/') && !/\s/.test(value)
        ? { ok: true, type, value }
        : notA(rawType, rawValue, 'a URL path starting with /');
    case 'asn': {
      const m = /^(?:as)?(\d{1,10})$/i.exec(value);
      return m ? { ok: true, type, value: `AS${Number(m[1])}` } : notA(rawType, rawValue, 'an AS number');
    }
    default:
      if (!/^[a-z0-9][a-z0-9._+-]{0,63}$/.test(type)) {
        return {
          ok: false,
          error: `${JSON.stringify(rawType)} is not an indicator type (letters, digits, . _ + -)`,
        };
      }
      return { ok: true, type, value };
  }
}

/** 32-bit FNV-1a of a string, seeded. */
function fnv(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The uuid of an indicator in a dataset: derived from (dataset, type, value), so it is the same
 * in every shard of the dataset and stays the same across deletes and re-imports. UUIDv8 layout.
 */
export function indicatorUuid(datasetId: string, type: string, value: string): string {
  const key = `${datasetId}\u0000${type}\u0000${value}`;
  const words = [fnv(key, 0x811c9dc5), fnv(key, 0x01234567), fnv(key, 0x89abcdef), fnv(key, 0x76543210)];
  const hex = words.map((w) => w.toString(16).padStart(8, '0')).join('');
  const variant = ((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The most likely type of a value sent without one. */
export function guessIndicatorType(value: string): string {
  const v = value.trim();
  if (ipv4(v) || ipv6(v)) return 'ip';
  if (/^[0-9a-f]+$/i.test(v)) {
    const byLength: Record<number, string> = { 32: 'md5', 40: 'sha1', 64: 'sha256', 128: 'sha512' };
    if (byLength[v.length]) return byLength[v.length] as string;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) return 'url';
  if (v.startsWith('/')) return 'url-path';
  if (v.includes('@') && domain(v.slice(v.lastIndexOf('@') + 1))) return 'email';
  if (domain(v)) return 'domain';
  if (v.includes('/')) return 'url';
  return 'unknown';
}
