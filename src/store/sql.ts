/** Positional or named parameters of one statement. Values are always bound, never spliced. */
export type Params = readonly unknown[] | Readonly<Record<string, unknown>>;

/**
 * A synchronous SQLite connection. better-sqlite3 and Durable Object SQL storage are both
 * synchronous, so every store is written against this one interface.
 */
export interface Sql {
  exec(sql: string): void;
  all<Row>(sql: string, params?: Params): Row[];
  one<Row>(sql: string, params?: Params): Row | undefined;
  run(sql: string, params?: Params): { changes: number; lastRowId: number };
  /** Runs fn in one transaction; fn must be synchronous (no await inside). Nested calls become savepoints. */
  transaction<T>(fn: () => T): T;
  close(): void;
}

/** Opens the SQLite databases of one installation (files on Node, Durable Objects on Workers). */
export interface DatabaseFactory {
  system(): Sql;
  account(accountId: string): Sql;
  shard(accountId: string, shardId: string): Sql;
  /** Removes a shard's storage for good (used when a dataset is purged). */
  dropShard(accountId: string, shardId: string): void;
}
