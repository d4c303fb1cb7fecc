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
  /** Journal every shard write for point-in-time revert (THREATDESK_JOURNAL=off switches it off). */
  journal: boolean;
  /** Shards in a storage thread (the default) or in the server thread (THREATDESK_SHARD_THREAD=off). */
  shardThread: boolean;
  /** WAL size (MiB) at which a shard is checkpointed beside the writes (THREATDESK_CHECKPOINT_MIB). */
  checkpointAtMiB: number;
  /** Milliseconds between shard maintenance passes (THREATDESK_MAINTENANCE_TICK_MS; 0 = off). */
  maintenanceTickMs: number;
  config: Config;
  alerts: AlertSettings;
}

/** Alert delivery: the scheduler's tick, SMTP, and retry behaviour. */
export interface AlertSettings {
  /** Milliseconds between scheduler runs; 0 turns the scheduler off. */
  tickMs: number;
  /** `smtp://[user:pass@]host[:port]` or `smtps://…`; email alerts fail without it. */
  smtpUrl: string | undefined;
  /** Envelope sender and From address of alert emails. */
  smtpFrom: string;
  /** Per-attempt timeout of a webhook POST or an SMTP conversation. */
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  settleMs: number;
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
    alerts: readAlertSettings(env),
    config: {
      shardMaxEvents: positiveInt(env, 'THREATDESK_SHARD_MAX_EVENTS', defaultConfig.shardMaxEvents),
      maxBodyBytes: positiveInt(env, 'THREATDESK_MAX_BODY_BYTES', defaultConfig.maxBodyBytes),
      maxBulkEvents: positiveInt(env, 'THREATDESK_MAX_BULK_EVENTS', defaultConfig.maxBulkEvents),
      revertWindowDays: positiveInt(env, 'THREATDESK_REVERT_WINDOW_DAYS', defaultConfig.revertWindowDays),
      datasetRetentionDays: positiveInt(
        env,
        'THREATDESK_DATASET_RETENTION_DAYS',
        defaultConfig.datasetRetentionDays,
      ),
    },
    journal: env.THREATDESK_JOURNAL !== 'off',
    shardThread: env.THREATDESK_SHARD_THREAD !== 'off',
    checkpointAtMiB: positiveInt(env, 'THREATDESK_CHECKPOINT_MIB', 64, 0),
    maintenanceTickMs: positiveInt(env, 'THREATDESK_MAINTENANCE_TICK_MS', 600_000, 0),
  };
}

function readAlertSettings(env: NodeJS.ProcessEnv): AlertSettings {
  const smtpUrl = env.THREATDESK_SMTP_URL || undefined;
  if (smtpUrl !== undefined && !/^smtps?:\/\/[^/]+/.test(smtpUrl)) {
    throw new Error(
      `THREATDESK_SMTP_URL must look like smtp://host:port or smtps://host:port, got ${JSON.stringify(smtpUrl)}`,
    );
  }
  return {
    tickMs: positiveInt(env, 'THREATDESK_ALERT_TICK_MS', 2_000, 0),
    smtpUrl,
    smtpFrom: env.THREATDESK_SMTP_FROM || 'threatdesk@localhost',
    timeoutMs: positiveInt(env, 'THREATDESK_ALERT_TIMEOUT_MS', 10_000),
    maxAttempts: positiveInt(env, 'THREATDESK_ALERT_MAX_ATTEMPTS', 5),
    retryBaseMs: positiveInt(env, 'THREATDESK_ALERT_RETRY_MS', 2_000, 0),
    settleMs: positiveInt(env, 'THREATDESK_ALERT_SETTLE_MS', 1_000, 0),
  };
}
