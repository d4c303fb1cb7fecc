import type { Clock } from './clock.ts';

/**
 * Event ids are UUIDv7 with a 10-bit per-millisecond sequence at the top of `rand_a`.
 * That makes `ms * 1024 + seq` unique per id and ordered exactly like the uuid text, so the
 * shard stores it as the integer rowid: secondary indexes then carry the uuid order for free
 * (stable tie-breaks and keyset cursors) and no separate uuid index is needed.
 * 2^53 / 1024 ms is about the year 2248, so the key stays a safe JavaScript integer.
 */
export interface IdGenerator {
  /** A new time-ordered event id. */
  eventId(): string;
  /** A random UUIDv4 for other records. */
  uuid(): string;
  /** Random bytes as lower-case hex (token secrets). */
  secret(bytes: number): string;
}

const SEQ_BITS = 1024;

/** The value of the lower-case hex digit at `i`, or -1. */
function hexDigitAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  return -1;
}

/**
 * The integer key of an event id, or undefined when the text is not one of ours: lower-case
 * `xxxxxxxx-xxxx-7xxx-[89ab]xxx-xxxxxxxxxxxx`. Read character by character (no regex, no
 * substrings): the shards and every new event call this.
 */
export function eventKey(uuid: string): number | undefined {
  if (uuid.length !== 36) return undefined;
  let ms = 0;
  let randA = 0;
  for (let i = 0; i < 36; i++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (uuid.charCodeAt(i) !== 45) return undefined; // -
      continue;
    }
    const d = hexDigitAt(uuid, i);
    if (d < 0) return undefined;
    if (i < 13) ms = ms * 16 + d;
    else if (i === 14) {
      if (d !== 7) return undefined;
    } else if (i < 18) randA = randA * 16 + d;
    else if (i === 19 && (d < 8 || d > 11)) return undefined; // 8, 9, a or b
  }
  return ms * SEQ_BITS + (randA >> 2);
}

/** Character codes of the hex digits. */
const HEX_CODE: readonly number[] = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/** Two lower-case hex digits for each byte value. */
const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

function hex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX_BYTE[bytes[i] as number];
  return out;
}

/**
 * Character codes of the id being written, dashes in place: filled digit by digit and turned
 * into one flat string by a single String.fromCharCode (concatenating the pieces made a dozen
 * intermediate strings per id, and a cons string the shard's message then had to flatten).
 */
const idCodes: number[] = Array.from('xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx', (c) => c.charCodeAt(0));

/** Writes the two hex digits of `byte` at `pos` of idCodes. */
function putByte(pos: number, byte: number): void {
  idCodes[pos] = HEX_CODE[byte >> 4] as number;
  idCodes[pos + 1] = HEX_CODE[byte & 15] as number;
}

/** Where the 16 bytes of a uuid go in its text. */
const BYTE_POS = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

function idText(): string {
  return String.fromCharCode.apply(null, idCodes);
}

/** The production generator: monotonic within the process even when the clock steps back. */
export class RandomIds implements IdGenerator {
  private lastMs = 0;
  private seq = 0;

  constructor(private readonly clock: Clock) {}

  eventId(): string {
    let ms = this.clock.now();
    if (ms <= this.lastMs) {
      ms = this.lastMs;
      this.seq++;
      if (this.seq >= SEQ_BITS) {
        ms++;
        this.seq = 0;
      }
    } else {
      // Start low but not at zero, so a restart within the same millisecond rarely collides.
      this.seq = Math.floor(Math.random() * 256);
    }
    this.lastMs = ms;
    // Straight from the random pool into the character codes (see idCodes).
    const at = this.draw(8);
    const p = this.pool;
    const r0 = p[at] as number;
    // The 48-bit millisecond time, 12 hex digits with the dash after the 8th.
    let t = ms;
    for (let i = 12; i >= 0; i--) {
      if (i === 8) continue;
      idCodes[i] = HEX_CODE[t % 16] as number;
      t = Math.floor(t / 16);
    }
    idCodes[14] = 55; // 7
    const randA = (this.seq << 2) | (r0 & 3);
    idCodes[15] = HEX_CODE[(randA >> 8) & 15] as number;
    idCodes[16] = HEX_CODE[(randA >> 4) & 15] as number;
    idCodes[17] = HEX_CODE[randA & 15] as number;
    putByte(19, ((p[at + 1] as number) & 0x3f) | 0x80);
    putByte(21, r0 >> 2);
    for (let i = 2; i < 8; i++) putByte(24 + 2 * (i - 2), p[at + i] as number);
    return idText();
  }

  uuid(): string {
    // RFC 4122 version 4 from the pooled random bytes (crypto.randomUUID costs a call into the OS each time).
    const at = this.draw(16);
    const p = this.pool;
    for (let i = 0; i < 16; i++) {
      const b = p[at + i] as number;
      putByte(BYTE_POS[i] as number, i === 6 ? (b & 0x0f) | 0x40 : i === 8 ? (b & 0x3f) | 0x80 : b);
    }
    return idText();
  }

  private pool = new Uint8Array(0);
  private poolAt = 0;

  /**
   * Reserves `n` cryptographically random bytes of the pool, refilled 4 KiB at a time; answers
   * where they start in `this.pool`.
   */
  private draw(n: number): number {
    if (this.poolAt + n > this.pool.length) {
      this.pool = new Uint8Array(4096);
      crypto.getRandomValues(this.pool);
      this.poolAt = 0;
    }
    const at = this.poolAt;
    this.poolAt += n;
    return at;
  }

  secret(bytes: number): string {
    const buf = new Uint8Array(bytes);
    crypto.getRandomValues(buf);
    return hex(buf);
  }
}
