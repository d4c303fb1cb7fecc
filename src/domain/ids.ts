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

/** The integer key of an event id, or undefined when the text is not one of ours. */
export function eventKey(uuid: string): number | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(uuid)) return undefined;
  const ms = Number.parseInt(uuid.slice(0, 8) + uuid.slice(9, 13), 16);
  const randA = Number.parseInt(uuid.slice(15, 18), 16);
  return ms * SEQ_BITS + (randA >> 2);
}

/** Two lower-case hex digits for each byte value. */
const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

function hex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX_BYTE[bytes[i] as number];
  return out;
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
    // Straight from the random pool: no views, and each byte's hex comes from the table.
    const at = this.draw(8);
    const p = this.pool;
    const r0 = p[at] as number;
    const msHex = ms.toString(16).padStart(12, '0');
    const randA = ((this.seq << 2) | (r0 & 3)).toString(16).padStart(3, '0');
    const variant = HEX_BYTE[((p[at + 1] as number) & 0x3f) | 0x80];
    let tail = '';
    for (let i = 2; i < 8; i++) tail += HEX_BYTE[p[at + i] as number];
    return `${msHex.slice(0, 8)}-${msHex.slice(8)}-7${randA}-${variant}${HEX_BYTE[r0 >> 2]}-${tail}`;
  }

  uuid(): string {
    // RFC 4122 version 4 from the pooled random bytes (crypto.randomUUID costs a call into the OS each time).
    const at = this.draw(16);
    const p = this.pool;
    let out = '';
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) out += '-';
      const b = p[at + i] as number;
      out += HEX_BYTE[i === 6 ? (b & 0x0f) | 0x40 : i === 8 ? (b & 0x3f) | 0x80 : b];
    }
    return out;
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
