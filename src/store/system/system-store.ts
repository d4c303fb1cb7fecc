import { migrate } from '../migrations/run.ts';
import { systemMigrations } from '../migrations/system.ts';
import type { Sql } from '../sql.ts';

/** What a token may do. */
export type Permission = 'read' | 'write';

export interface TokenRecord {
  id: string;
  accountId: string;
  name: string;
  email: string | null;
  permission: Permission;
  createdAt: number;
  revokedAt: number | null;
}

interface TokenRow {
  id: string;
  account_id: string;
  name: string;
  email: string | null;
  permission: Permission;
  created_at: number;
  revoked_at: number | null;
}

const toToken = (row: TokenRow): TokenRecord => ({
  id: row.id,
  accountId: row.account_id,
  name: row.name,
  email: row.email,
  permission: row.permission,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

/** Accounts and hashed API tokens (system.db). */
export class SystemStore {
  constructor(private readonly sql: Sql) {
    migrate(sql, systemMigrations);
  }

  ensureAccount(accountId: string, now: number): void {
    this.sql.run('INSERT OR IGNORE INTO accounts (id, created_at) VALUES (?, ?)', [accountId, now]);
  }

  accountExists(accountId: string): boolean {
    return this.sql.one('SELECT 1 FROM accounts WHERE id = ?', [accountId]) !== undefined;
  }

  insertToken(token: TokenRecord, hash: string): void {
    this.sql.run(
      `INSERT INTO tokens (id, account_id, name, email, permission, hash, created_at, revoked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, NULL)`,
      [token.id, token.accountId, token.name, token.email, token.permission, hash, token.createdAt],
    );
  }

  /** The live token with this hash, if any (the hash is the lookup key; see domain/tokens.ts). */
  tokenByHash(hash: string): (TokenRecord & { hash: string }) | undefined {
    const row = this.sql.one<TokenRow & { hash: string }>(
      'SELECT * FROM tokens WHERE hash = ? AND revoked_at IS NULL',
      [hash],
    );
    return row ? { ...toToken(row), hash: row.hash } : undefined;
  }

  listTokens(accountId?: string): TokenRecord[] {
    const rows = accountId
      ? this.sql.all<TokenRow>('SELECT * FROM tokens WHERE account_id = ? ORDER BY created_at, id', [
          accountId,
        ])
      : this.sql.all<TokenRow>('SELECT * FROM tokens ORDER BY account_id, created_at, id');
    return rows.map(toToken);
  }

  /** Every account that has or had a token, for the background jobs that visit each account. */
  accountIds(): string[] {
    return this.sql
      .all<{ id: string }>('SELECT DISTINCT account_id AS id FROM tokens ORDER BY account_id')
      .map((r) => r.id);
  }

  countLiveTokens(): number {
    return this.sql.one<{ n: number }>('SELECT count(*) AS n FROM tokens WHERE revoked_at IS NULL')?.n ?? 0;
  }

  revokeToken(id: string, now: number): boolean {
    return (
      this.sql.run('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [now, id])
        .changes > 0
    );
  }
}
