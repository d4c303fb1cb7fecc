import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { createApp } from '../../api/app.ts';
import { jsonLogger, type Logger, silentLogger } from '../../api/logger.ts';
import { systemClock } from '../../domain/clock.ts';
import { maintainShards } from '../../domain/datasets/maintenance.ts';
import { RandomIds } from '../../domain/ids.ts';
import { AlertDelivery, fetchWebhook } from '../../domain/queries/delivery.ts';
import { createToken, ensureToken, newAccountId } from '../../domain/tokens.ts';
import { createStores } from '../../store/stores.ts';
import { lockDataDir } from './backup.ts';
import type { NodeSettings } from './config.ts';
import { Periodic } from './scheduler.ts';
import { startShardThread } from './shard-thread.ts';
import { sendMail } from './smtp.ts';
import { FileDatabases } from './sqlite.ts';

/** A running server and how to stop it. */
export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts threatdesk on Node: opens the data directory, makes sure a token exists, serves HTTP.
 * `stop()` refuses new requests, lets the ones in flight finish, then closes the databases.
 */
export async function startServer(
  settings: NodeSettings,
  print: (line: string) => void = console.log,
): Promise<RunningServer> {
  const clock = systemClock;
  const ids = new RandomIds(clock);
  const dbs = new FileDatabases(settings.dataDir, { durability: settings.durability });
  const unlock = lockDataDir(settings.dataDir);
  const shardThread = settings.shardThread
    ? startShardThread(
        {
          dataDir: settings.dataDir,
          durability: settings.durability,
          journal: settings.journal,
          checkpointAtMiB: settings.checkpointAtMiB,
        },
        (err) =>
          process.stderr.write(`${JSON.stringify({ msg: 'storage thread failed', error: err.message })}\n`),
      )
    : undefined;
  const stores = createStores(dbs, clock, {
    journal: settings.journal,
    ...(shardThread ? { shards: shardThread } : {}),
  });
  // THREATDESK_LOG=off silences the request log only: unhandled errors still reach stderr.
  const logger: Logger = settings.logRequests
    ? jsonLogger((line) => process.stdout.write(`${line}\n`))
    : { info: silentLogger.info, error: jsonLogger((line) => process.stderr.write(`${line}\n`)).error };

  if (settings.bootstrapAccount && settings.bootstrapToken) {
    await ensureToken({ stores, clock, ids }, settings.bootstrapAccount, settings.bootstrapToken);
  } else if (stores.system.countLiveTokens() === 0) {
    const accountId = newAccountId(ids);
    const { token } = await createToken(
      { stores, clock, ids },
      { accountId, permission: 'write', name: 'first start' },
    );
    print('threatdesk: no API token existed, so one was created. It is shown only this once:');
    print(`  account id:  ${accountId}`);
    print(`  write token: ${token}`);
  }

  const alerts = settings.alerts;
  const smtpUrl = alerts.smtpUrl;
  const delivery = new AlertDelivery({
    stores,
    clock,
    ids,
    config: settings.config,
    transport: {
      webhook: fetchWebhook(alerts.timeoutMs),
      email: smtpUrl
        ? (message, signal) =>
            sendMail({ url: smtpUrl, from: alerts.smtpFrom, timeoutMs: alerts.timeoutMs }, message, signal)
        : async () => {
            throw new Error('THREATDESK_SMTP_URL is not set, so email alerts cannot be sent');
          },
    },
    options: { maxAttempts: alerts.maxAttempts, retryBaseMs: alerts.retryBaseMs, settleMs: alerts.settleMs },
    log: (entry) => logger.error(entry),
  });
  const scheduler = new Periodic(
    (signal) => delivery.runDueAlerts({ signal }),
    alerts.tickMs,
    (err) =>
      logger.error({
        msg: 'alert scheduler run failed',
        error: err instanceof Error ? err.message : String(err),
      }),
  );
  // Shard housekeeping (journal past the revert window, full text of removed events).
  const maintenance = new Periodic(
    (signal) => maintainShards({ stores, clock, config: settings.config }, { signal }),
    settings.maintenanceTickMs,
    (err) =>
      logger.error({
        msg: 'shard maintenance failed',
        error: err instanceof Error ? err.message : String(err),
      }),
  );

  let serving = true;
  const app = createApp({ stores, clock, ids, logger, config: settings.config, isServing: () => serving });
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: settings.host, port: settings.port }, () =>
        resolve(s as Server),
      );
      (s as Server).once('error', reject);
    });
  } catch (err) {
    // Nothing was served: release what was opened, so the process can exit with the error.
    await shardThread?.close();
    dbs.closeAll();
    unlock();
    throw err;
  }
  server.keepAliveTimeout = 5_000;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  const url = `http://${settings.host}:${port}`;
  scheduler.start();
  maintenance.start(settings.maintenanceTickMs);

  let stopping: Promise<void> | undefined;
  return {
    url,
    stop(): Promise<void> {
      stopping ??= new Promise<void>((resolve) => {
        serving = false;
        // Sends in flight are aborted; their messages stay pending and go out after the next start.
        const schedulerStopped = Promise.all([scheduler.stop(), maintenance.stop()]);
        server.close(() => {
          void schedulerStopped.then(() => {
            void (shardThread?.close() ?? Promise.resolve()).then(() => {
              dbs.closeAll();
              unlock();
              resolve();
            });
          });
        });
        server.closeIdleConnections();
      });
      return stopping;
    },
  };
}
