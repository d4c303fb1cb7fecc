import path from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../../domain/clock.ts';
import { defaultConfig } from '../../domain/context.ts';
import { RandomIds } from '../../domain/ids.ts';
import { seedActors } from '../../domain/tags/seed.ts';
import { createToken } from '../../domain/tokens.ts';
import { createStores } from '../../store/stores.ts';
import { backup, restore } from './backup.ts';
import { readSettings } from './config.ts';
import { startServer } from './server.ts';
import { FileDatabases } from './sqlite.ts';

const USAGE = `usage: threatdesk <command>

  serve                                   start the server (npm start)
  token create --account <id> [--read-only] [--name <n>] [--email <e>]
                                          print a new API token (shown once)
  token list [--account <id>]             list tokens (never their secrets)
  token revoke <token-id>                 revoke a token
  seed actors --account <id>              create or update one tag per threat actor (MISP galaxy) in
                                          the "Threat Actor" tag category; safe to run again
  backup <dir>                            consistent online backup of every database (server may run)
  restore <dir>                           restore a backup into THREATDESK_DATA_DIR (server stopped;
                                          the old data is kept aside as <data>.before-restore-<time>)

Environment: PORT, HOST, THREATDESK_DATA_DIR (default ./data), THREATDESK_SHARD_MAX_EVENTS,
THREATDESK_MAX_BODY_BYTES, THREATDESK_DURABILITY (normal|full), THREATDESK_BOOTSTRAP_ACCOUNT,
THREATDESK_BOOTSTRAP_TOKEN, THREATDESK_LOG (off to silence request logs); alerts: THREATDESK_SMTP_URL,
THREATDESK_SMTP_FROM, THREATDESK_ALERT_TICK_MS, THREATDESK_ALERT_SETTLE_MS, THREATDESK_ALERT_RETRY_MS,
THREATDESK_ALERT_MAX_ATTEMPTS, THREATDESK_ALERT_TIMEOUT_MS.`;

/** The `threatdesk` command line. Answers the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  if (!command || command === 'help' || command === '--help') {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  const settings = readSettings();
  if (command === 'serve') {
    const server = await startServer(settings);
    console.log(`threatdesk: serving ${server.url} (data in ${settings.dataDir})`);
    const shutdown = (signal: string) => {
      console.log(`threatdesk: ${signal}: finishing requests in flight, then stopping`);
      void server.stop().then(() => process.exit(0));
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
    return -1;
  }
  if (command === 'backup' || command === 'restore') {
    if (!sub) {
      console.error(`${command}: give the backup folder (threatdesk ${command} <dir>)`);
      return 2;
    }
    const dir = path.resolve(sub);
    try {
      if (command === 'backup') {
        const manifest = await backup(settings.dataDir, dir, (line) => console.log(line));
        console.log(`backup of ${manifest.files.length} database(s) written to ${dir}`);
      } else {
        const { movedAside } = restore(dir, settings.dataDir, (line) => console.log(line));
        console.log(
          `restored ${dir} into ${settings.dataDir}${movedAside ? ` (previous data kept in ${movedAside})` : ''}`,
        );
      }
      return 0;
    } catch (err) {
      console.error((err as Error).message);
      return 1;
    }
  }
  if (command === 'seed') {
    if (sub !== 'actors') {
      console.error('seed: the only data set is "actors" (threatdesk seed actors --account <id>)');
      return 2;
    }
    const { values } = parseArgs({ args: rest, options: { account: { type: 'string' } } });
    if (!values.account || !/^[A-Za-z0-9_-]{1,64}$/.test(values.account)) {
      console.error('seed actors: --account <id> is required (1-64 letters, digits, - or _)');
      return 2;
    }
    const dbs = new FileDatabases(settings.dataDir);
    try {
      const stores = createStores(dbs, systemClock);
      const result = seedActors({
        accountId: values.account,
        permission: 'write',
        tokenId: 'cli',
        email: null,
        clock: systemClock,
        ids: new RandomIds(systemClock),
        stores,
        config: { ...defaultConfig, ...settings.config },
      });
      console.log(
        `seeded actors into account ${values.account}: ${result.created} created, ${result.updated} updated, ` +
          `${result.unchanged} unchanged (tag category "Threat Actor" ${result.categoryUuid})`,
      );
      return 0;
    } finally {
      dbs.closeAll();
    }
  }
  if (command === 'token') {
    const dbs = new FileDatabases(settings.dataDir);
    try {
      const stores = createStores(dbs, systemClock);
      const ids = new RandomIds(systemClock);
      if (sub === 'create') {
        const { values } = parseArgs({
          args: rest,
          options: {
            account: { type: 'string' },
            'read-only': { type: 'boolean' },
            name: { type: 'string' },
            email: { type: 'string' },
          },
        });
        if (!values.account) {
          console.error('token create: --account <id> is required (any id; a new account is created)');
          return 2;
        }
        if (!/^[A-Za-z0-9_-]{1,64}$/.test(values.account)) {
          console.error('token create: --account must be 1-64 letters, digits, - or _');
          return 2;
        }
        const { token, record } = await createToken(
          { stores, clock: systemClock, ids },
          {
            accountId: values.account,
            permission: values['read-only'] ? 'read' : 'write',
            ...(values.name ? { name: values.name } : {}),
            email: values.email ?? null,
          },
        );
        console.log(`token id:   ${record.id}`);
        console.log(`account id: ${record.accountId}`);
        console.log(`permission: Cloudforce One ${record.permission === 'write' ? 'Write' : 'Read'}`);
        console.log(`token:      ${token}`);
        return 0;
      }
      if (sub === 'list') {
        const { values } = parseArgs({ args: rest, options: { account: { type: 'string' } } });
        for (const t of stores.system.listTokens(values.account)) {
          const state = t.revokedAt ? `revoked ${new Date(t.revokedAt).toISOString()}` : 'live';
          console.log(
            `${t.id}  account=${t.accountId}  ${t.permission}  ${state}  ${JSON.stringify(t.name)}`,
          );
        }
        return 0;
      }
      if (sub === 'revoke') {
        const id = rest[0];
        if (!id) {
          console.error('token revoke: give the token id (see token list)');
          return 2;
        }
        if (!stores.system.revokeToken(id, systemClock.now())) {
          console.error(`token revoke: no live token with id ${id}`);
          return 1;
        }
        console.log(`revoked ${id}`);
        return 0;
      }
    } finally {
      dbs.closeAll();
    }
  }
  console.error(USAGE);
  return 2;
}
