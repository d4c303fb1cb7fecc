import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { DatabaseFactory, Params, Sql } from '../../store/sql.ts';

/** How hard SQLite works to keep committed data: `normal` survives a process crash, `full` a power loss. */
export type Durability = 'normal' | 'full';

export interface SqliteOptions {
  durability?: Durability;
  /** Page cache per connection, in MiB. */
  cacheMiB?: number;
}

/** A better-sqlite3 connection behind the `Sql` interface, with statements prepared once and cached. */
export class BetterSqlite implements Sql {
  readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(file: string, options: SqliteOptions = {}) {
    this.db = new Database(file);
    if (file !== ':memory:') this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma(`cache_size = ${-1024 * (options.cacheMiB ?? 32)}`);
    this.db.pragma('temp_store = MEMORY');
  }

  private prepare(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  all<Row>(sql: string, params: Params = []): Row[] {
    return bind(this.prepare(sql), params, 'all') as Row[];
  }

  one<Row>(sql: string, params: Params = []): Row | undefined {
    return bind(this.prepare(sql), params, 'get') as Row | undefined;
  }

  run(sql: string, params: Params = []): { changes: number; lastRowId: number } {
    const info = bind(this.prepare(sql), params, 'run') as Database.RunResult;
    return { changes: info.changes, lastRowId: Number(info.lastInsertRowid) };
  }

  transaction<T>(fn: () => T): T {
    // better-sqlite3 turns nested transaction() calls into savepoints.
    return this.db.transaction(fn)();
  }

  close(): void {
    this.statements.clear();
    if (this.db.open) this.db.close();
  }
}

function bind(statement: Database.Statement, params: Params, method: 'all' | 'get' | 'run'): unknown {
  if (Array.isArray(params)) return statement[method](...(params as unknown[]));
  return statement[method](params);
}

/** Database files under one data directory, laid out as ARCHITECTURE.md describes. */
export class FileDatabases implements DatabaseFactory {
  private readonly open = new Map<string, BetterSqlite>();

  constructor(
    private readonly dataDir: string,
    private readonly options: SqliteOptions = {},
  ) {
    fs.mkdirSync(dataDir, { recursive: true });
  }

  private get(file: string, cacheMiB: number): BetterSqlite {
    let sql = this.open.get(file);
    if (!sql) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      sql = new BetterSqlite(file, { ...this.options, cacheMiB: this.options.cacheMiB ?? cacheMiB });
      this.open.set(file, sql);
    }
    return sql;
  }

  system(): Sql {
    return this.get(path.join(this.dataDir, 'system.db'), 8);
  }

  account(accountId: string): Sql {
    return this.get(path.join(this.accountDir(accountId), 'account.db'), 16);
  }

  shard(accountId: string, shardId: string): Sql {
    return this.get(path.join(this.accountDir(accountId), 'shards', `${safeName(shardId)}.db`), 192);
  }

  dropShard(accountId: string, shardId: string): void {
    const file = path.join(this.accountDir(accountId), 'shards', `${safeName(shardId)}.db`);
    this.open.get(file)?.close();
    this.open.delete(file);
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
  }

  /** Every open connection, for checkpointing and backups. */
  connections(): IterableIterator<[string, BetterSqlite]> {
    return this.open.entries();
  }

  closeAll(): void {
    for (const sql of this.open.values()) sql.close();
    this.open.clear();
  }

  private accountDir(accountId: string): string {
    return path.join(this.dataDir, 'accounts', safeName(accountId));
  }
}

/** In-memory databases for tests: every file becomes its own `:memory:` connection. */
export class MemoryDatabases implements DatabaseFactory {
  private readonly open = new Map<string, BetterSqlite>();

  private get(key: string): BetterSqlite {
    let sql = this.open.get(key);
    if (!sql) {
      sql = new BetterSqlite(':memory:');
      this.open.set(key, sql);
    }
    return sql;
  }

  system(): Sql {
    return this.get('system');
  }
  account(accountId: string): Sql {
    return this.get(`account:${accountId}`);
  }
  shard(accountId: string, shardId: string): Sql {
    return this.get(`shard:${accountId}:${shardId}`);
  }
  dropShard(accountId: string, shardId: string): void {
    const key = `shard:${accountId}:${shardId}`;
    this.open.get(key)?.close();
    this.open.delete(key);
  }
  closeAll(): void {
    for (const sql of this.open.values()) sql.close();
    this.open.clear();
  }
}

/** Ids reach file names, so anything but a plain id is refused rather than escaped. */
function safeName(id: string): string {
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(id) || id.startsWith('.')) throw new Error(`unsafe storage id: ${id}`);
  return id;
}
