import type { Stores } from '../store/stores.ts';
import type { Permission } from '../store/system/system-store.ts';
import type { Clock } from './clock.ts';
import { forbidden } from './errors.ts';
import type { IdGenerator } from './ids.ts';

/** Limits and switches read once at start-up. */
export interface Config {
  /** A shard rolls over to a new one at this many events. */
  shardMaxEvents: number;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Most events one bulk request may carry. */
  maxBulkEvents: number;
  /** How far back a dataset can be reverted (E11), in days. */
  revertWindowDays: number;
  /** How long a soft-deleted dataset can be restored before it is purged, in days. */
  datasetRetentionDays: number;
}

export const defaultConfig: Config = {
  shardMaxEvents: 5_000_000,
  maxBodyBytes: 64 * 1024 * 1024,
  maxBulkEvents: 25_000,
  revertWindowDays: 30,
  datasetRetentionDays: 30,
};

/** What every domain function runs with: who is asking, and the services it may use. */
export interface Ctx {
  accountId: string;
  permission: Permission;
  tokenId: string;
  email: string | null;
  clock: Clock;
  ids: IdGenerator;
  stores: Stores;
  config: Config;
}

/** Throws 403 unless the token may write. */
export function requireWrite(ctx: Ctx): void {
  if (ctx.permission !== 'write') {
    throw forbidden('this token has Cloudforce One Read; the operation needs Cloudforce One Write');
  }
}
