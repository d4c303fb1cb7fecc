/**
 * STIX 2.1 patterns for our indicator types. String literals are quoted with `'`, and
 * backslashes and quotes inside them are escaped, so any stored value makes a pattern that
 * parses. Types without a STIX Cyber-observable object use a custom `x-` object path.
 */

/** A STIX pattern string literal: `'…'` with `\` and `'` escaped. */
export function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const HASH_NAMES: Readonly<Record<string, string>> = {
  md5: 'MD5',
  sha1: 'SHA-1',
  sha256: 'SHA-256',
  sha512: 'SHA-512',
};

function isIpv6(value: string): boolean {
  return value.includes(':');
}

/** A regular expression (as text) that matches `text` literally. */
function regexLiteral(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The observable type a custom indicator type is patterned on: `x-<type>` with only [a-z0-9-]. */
function customType(type: string): string {
  const cleaned = type
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `x-${cleaned || 'indicator'}`;
}

/** The STIX pattern that matches one indicator of our type and (canonical) value. */
export function stixPattern(type: string, value: string): string {
  const hash = HASH_NAMES[type];
  if (hash) return `[file:hashes.'${hash}' = ${quote(value.toLowerCase())}]`;
  switch (type) {
    case 'domain':
      return `[domain-name:value = ${quote(value)}]`;
    case 'ip':
      return isIpv6(value) ? `[ipv6-addr:value = ${quote(value)}]` : `[ipv4-addr:value = ${quote(value)}]`;
    case 'ipv4':
      return `[ipv4-addr:value = ${quote(value)}]`;
    case 'ipv6':
      return `[ipv6-addr:value = ${quote(value)}]`;
    case 'cidr':
      return isIpv6(value)
        ? `[ipv6-addr:value ISSUBSET ${quote(value)}]`
        : `[ipv4-addr:value ISSUBSET ${quote(value)}]`;
    case 'url':
      return `[url:value = ${quote(value)}]`;
    case 'url-path':
      return `[url:value MATCHES ${quote(`^[a-zA-Z][a-zA-Z0-9+.-]*://[^/]+${regexLiteral(value)}([?#].*)?$`)}]`;
    case 'email':
      return `[email-addr:value = ${quote(value)}]`;
    case 'asn': {
      const n = /^AS(\d+)$/i.exec(value)?.[1];
      return n ? `[autonomous-system:number = ${Number(n)}]` : `[x-asn:value = ${quote(value)}]`;
    }
    case 'ja3':
    case 'ja3s':
      // No STIX Cyber-observable carries TLS fingerprints; a custom object path keeps the
      // pattern valid and the type explicit.
      return `[x-${type}:value = ${quote(value.toLowerCase())}]`;
    default:
      return `[${customType(type)}:value = ${quote(value)}]`;
  }
}

/** The STIX Cyber-observable type a pattern is about (for `x_` hints and tests). */
export function patternObjectType(pattern: string): string {
  return /^\[([a-z0-9-]+):/.exec(pattern)?.[1] ?? '';
}
