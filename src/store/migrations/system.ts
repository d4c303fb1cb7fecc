import type { Migration } from './run.ts';

/** Schema of system.db: accounts and API tokens. */
export const systemMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'accounts and tokens',
    sql: `
      CREATE TABLE accounts (
        id TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id),
        name TEXT NOT NULL,
        email TEXT,
        permission TEXT NOT NULL CHECK (permission IN ('read', 'write')),
        hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
      CREATE INDEX tokens_account ON tokens(account_id);
    `,
  },
];
