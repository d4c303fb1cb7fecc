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
  /**
   * Page size for a new database file, in bytes (no effect on an existing one). Shards use
   * 16 KiB: their rows and FTS segments are large, and fewer, larger pages cut the B-tree and
   * WAL work per insert.
   */
  pageSize?: number;
  /**
   * WAL pages written before an automatic checkpoint (SQLite's default is 1,000). A bulk batch
   * of a shard dirties several MiB, so with the default nearly every commit also checkpoints.
   * Checkpoint frequency does not change durability: commits are in the WAL either way.
   */
  walAutocheckpoint?: number;
}

/** A better-sqlite3 connection behind the `Sql` interface, with statements prepared once and cached. */
export class BetterSqlite implements Sql {
  readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(file: string, options: SqliteOptions = {}) {
    this.db = new Database(file);
    // page_size must come before WAL mode is set on a new file; on an existing file it is ignored.
    if (options.pageSize !== undefined) this.db.pragma(`page_size = ${options.pageSize}`);
    if (file !== ':memory:') {
      this.db.pragma('journal_mode = WAL');
      if (options.walAutocheckpoint !== undefined) {
        this.db.pragma(`wal_autocheckpoint = ${options.walAutocheckpoint}`);
        // Truncate the WAL back after a checkpoint so a burst of writes leaves no large file behind.
        this.db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
      }
    }
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

/**
 * Page size and checkpoint interval of shard files: about 1 GiB of WAL between checkpoints.
 * Random index inserts dirty the same leaf pages again and again; a long WAL lets a checkpoint
 * write (and fsync) each page once per GiB instead of once per 64 MiB. At 1,000,000 events the
 * commit cost per event fell from 57 to 40 µs going from 512 MiB to 1 GiB (bench/RESULTS.md).
 * The WAL is truncated back to 64 MiB after each checkpoint.
 */
export const SHARD_TUNING: SqliteOptions = { pageSize: 16_384, walAutocheckpoint: 65_536 };

/** Database files under one data directory, laid out as ARCHITECTURE.md describes. */
export class FileDatabases implements DatabaseFactory {
  private readonly open = new Map<string, BetterSqlite>();

  constructor(
    private readonly dataDir: string,
    private readonly options: SqliteOptions = {},
  ) {
    fs.mkdirSync(dataDir, { recursive: true });
  }

  private get(file: string, cacheMiB: number, tuning: SqliteOptions = {}): BetterSqlite {
    let sql = this.open.get(file);
    if (!sql) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      sql = new BetterSqlite(file, {
        ...tuning,
        ...this.options,
        cacheMiB: this.options.cacheMiB ?? cacheMiB,
      });
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

  /** The file of a shard's database. */
  shardFile(accountId: string, shardId: string): string {
    return path.join(this.accountDir(accountId), 'shards', `${safeName(shardId)}.db`);
  }

  shard(accountId: string, shardId: string): Sql {
    return this.get(this.shardFile(accountId, shardId), 192, SHARD_TUNING);
  }

  dropShard(accountId: string, shardId: string): void {
    const file = this.shardFile(accountId, shardId);
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
