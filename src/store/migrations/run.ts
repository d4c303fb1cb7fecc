import type { Sql } from '../sql.ts';

/** One numbered schema step. Steps run in order, once, each in its own transaction. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Brings a database up to the newest migration, recording each step in `schema_version`. */
export function migrate(sql: Sql, migrations: readonly Migration[]): void {
  sql.exec(
    'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  );
  const row = sql.one<{ v: number | null }>('SELECT max(version) AS v FROM schema_version');
  const current = row?.v ?? 0;
  for (const step of migrations) {
    if (step.version <= current) continue;
    sql.transaction(() => {
      sql.exec(step.sql);
      sql.run('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)', [
        step.version,
        step.name,
        Date.now(),
      ]);
    });
  }
}
