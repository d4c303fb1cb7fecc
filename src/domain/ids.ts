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

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
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
    const rand = this.randomBytes(8);
    const msHex = ms.toString(16).padStart(12, '0');
    const randA = ((this.seq << 2) | ((rand[0] ?? 0) & 3)).toString(16).padStart(3, '0');
    const variant = (((rand[1] ?? 0) & 0x3f) | 0x80).toString(16).padStart(2, '0');
    const tail = hex(rand.subarray(2, 8));
    const r2 = ((rand[0] ?? 0) >> 2).toString(16).padStart(2, '0');
    return `${msHex.slice(0, 8)}-${msHex.slice(8)}-7${randA}-${variant}${r2}-${tail}`;
  }

  uuid(): string {
    // RFC 4122 version 4 from the pooled random bytes (crypto.randomUUID costs a call into the OS each time).
    const b = this.randomBytes(16);
    b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
    b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
    const h = hex(b);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  private pool = new Uint8Array(0);
  private poolAt = 0;

  /** Cryptographically random bytes, drawn from a pool refilled 4 KiB at a time. */
  private randomBytes(n: number): Uint8Array {
    if (this.poolAt + n > this.pool.length) {
      this.pool = new Uint8Array(4096);
      crypto.getRandomValues(this.pool);
      this.poolAt = 0;
    }
    const out = this.pool.subarray(this.poolAt, this.poolAt + n);
    this.poolAt += n;
    return out;
  }

  secret(bytes: number): string {
    const buf = new Uint8Array(bytes);
    crypto.getRandomValues(buf);
    return hex(buf);
  }
}
