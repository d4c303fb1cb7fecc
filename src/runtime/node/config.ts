import path from 'node:path';
import { type Config, defaultConfig } from '../../domain/context.ts';
import type { Durability } from './sqlite.ts';

/** Everything the Node entry point reads from the environment, once. */
export interface NodeSettings {
  host: string;
  port: number;
  dataDir: string;
  durability: Durability;
  bootstrapAccount: string | undefined;
  bootstrapToken: string | undefined;
  logRequests: boolean;
  config: Config;
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    throw new Error(`${name} must be an integer of at least ${min}, got ${JSON.stringify(text)}`);
  }
  return n;
}

/** Reads and checks the settings; throws with the variable's name when one is wrong. */
export function readSettings(env: NodeJS.ProcessEnv = process.env): NodeSettings {
  const durability = env.THREATDESK_DURABILITY ?? 'normal';
  if (durability !== 'normal' && durability !== 'full') {
    throw new Error(`THREATDESK_DURABILITY must be normal or full, got ${JSON.stringify(durability)}`);
  }
  const account = env.THREATDESK_BOOTSTRAP_ACCOUNT || undefined;
  const token = env.THREATDESK_BOOTSTRAP_TOKEN || undefined;
  if ((account === undefined) !== (token === undefined)) {
    throw new Error('THREATDESK_BOOTSTRAP_ACCOUNT and THREATDESK_BOOTSTRAP_TOKEN must be set together');
  }
  return {
    host: env.HOST || '127.0.0.1',
    port: positiveInt(env, 'PORT', 8787, 0),
    dataDir: path.resolve(env.THREATDESK_DATA_DIR || './data'),
    durability,
    bootstrapAccount: account,
    bootstrapToken: token,
    logRequests: env.THREATDESK_LOG !== 'off',
    config: {
      shardMaxEvents: positiveInt(env, 'THREATDESK_SHARD_MAX_EVENTS', defaultConfig.shardMaxEvents),
      maxBodyBytes: positiveInt(env, 'THREATDESK_MAX_BODY_BYTES', defaultConfig.maxBodyBytes),
      maxBulkEvents: positiveInt(env, 'THREATDESK_MAX_BULK_EVENTS', defaultConfig.maxBulkEvents),
    },
  };
}
