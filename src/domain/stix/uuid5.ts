/**
 * Name-based UUIDs (RFC 9562 version 5, SHA-1). STIX ids must carry a UUID of version 1–5, so
 * our UUIDv7 event ids cannot be used as they are; deriving a v5 UUID from them (and from
 * the names of shared objects) gives every exported object an id that is the same on every
 * export. Synchronous and free of platform APIs, so it runs the same in Node and in Workers.
 */

/** Namespace of every threatdesk STIX id (a fixed v4 UUID). */
export const THREATDESK_NAMESPACE = '6b0a6f1e-52f4-4f3b-9b1f-0c8a7a3e2d51';

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

/** The message schedule, reused by every call (sha1 is synchronous, so never shared). */
const SCHEDULE = new Uint32Array(80);

/** SHA-1 of bytes (FIPS 180-4). Used only for name-based ids, never for security. */
export function sha1(data: Uint8Array): Uint8Array {
  const bitLength = data.length * 8;
  const padded = new Uint8Array((((data.length + 8) >> 6) + 1) * 64);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bitLength / 0x100000000));
  view.setUint32(padded.length - 4, bitLength >>> 0);
  let h0 = 0x67452301;
  let h1 = 0xefcdab89;
  let h2 = 0x98badcfe;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0;
  const w = SCHEDULE;
  for (let block = 0; block < padded.length; block += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(block + i * 4);
    for (let i = 16; i < 80; i++) {
      w[i] = rotl((w[i - 3] ?? 0) ^ (w[i - 8] ?? 0) ^ (w[i - 14] ?? 0) ^ (w[i - 16] ?? 0), 1);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let i = 0; i < 80; i++) {
      let f: number;
      let k: number;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      const t = (rotl(a, 5) + f + e + k + (w[i] ?? 0)) >>> 0;
      e = d;
      d = c;
      c = rotl(b, 30) >>> 0;
      b = a;
      a = t;
    }
    h0 = (h0 + a) >>> 0;
    h1 = (h1 + b) >>> 0;
    h2 = (h2 + c) >>> 0;
    h3 = (h3 + d) >>> 0;
    h4 = (h4 + e) >>> 0;
  }
  const out = new Uint8Array(20);
  const outView = new DataView(out.buffer);
  [h0, h1, h2, h3, h4].forEach((h, i) => {
    outView.setUint32(i * 4, h);
  });
  return out;
}

function uuidBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`not a UUID: ${uuid}`);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const encoder = new TextEncoder();
const DEFAULT_NS = uuidBytes(THREATDESK_NAMESPACE);
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The version 5 UUID of `name` in `namespace` (lower-case, hyphenated). */
export function uuidv5(name: string, namespace = THREATDESK_NAMESPACE): string {
  const ns = namespace === THREATDESK_NAMESPACE ? DEFAULT_NS : uuidBytes(namespace);
  const bytes = encoder.encode(name);
  const input = new Uint8Array(ns.length + bytes.length);
  input.set(ns);
  input.set(bytes, ns.length);
  const hash = sha1(input).subarray(0, 16);
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  let hex = '';
  for (const b of hash) hex += HEX[b];
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A STIX identifier `<type>--<uuidv5 of the name>`. */
export function stixId(type: string, name: string): string {
  return `${type}--${uuidv5(`${type}:${name}`)}`;
}

const SHARED_IDS = new Map<string, string>();
const MAX_SHARED_IDS = 10_000;

/** stixId for names that recur (producer, actors, sectors): remembered, up to a bound. */
export function sharedStixId(type: string, name: string): string {
  const key = `${type}:${name}`;
  let id = SHARED_IDS.get(key);
  if (id === undefined) {
    id = stixId(type, name);
    if (SHARED_IDS.size >= MAX_SHARED_IDS) SHARED_IDS.clear();
    SHARED_IDS.set(key, id);
  }
  return id;
}
