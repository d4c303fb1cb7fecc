import type { Sql } from '../sql.ts';

/** An event category of one account. */
export interface EventCategoryRecord {
  uuid: string;
  name: string;
  shortname: string | null;
  killChain: number;
  mitreAttack: string[];
  mitreCapec: string[];
  createdAt: number;
  updatedAt: number;
}

interface EventCategoryRow {
  uuid: string;
  name: string;
  shortname: string | null;
  kill_chain: number;
  mitre_attack: string;
  mitre_capec: string;
  created_at: number;
  updated_at: number;
}

const toEventCategory = (r: EventCategoryRow): EventCategoryRecord => ({
  uuid: r.uuid,
  name: r.name,
  shortname: r.shortname,
  killChain: r.kill_chain,
  mitreAttack: JSON.parse(r.mitre_attack) as string[],
  mitreCapec: JSON.parse(r.mitre_capec) as string[],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Event categories of one account (account.db). */
export class EventCategoryStore {
  constructor(private readonly sql: Sql) {}

  list(): EventCategoryRecord[] {
    return this.sql
      .all<EventCategoryRow>('SELECT * FROM event_categories ORDER BY name COLLATE NOCASE, uuid')
      .map(toEventCategory);
  }

  get(uuid: string): EventCategoryRecord | undefined {
    const row = this.sql.one<EventCategoryRow>('SELECT * FROM event_categories WHERE uuid = ?', [uuid]);
    return row ? toEventCategory(row) : undefined;
  }

  /** The category with this name, compared case-insensitively. */
  byName(name: string): EventCategoryRecord | undefined {
    const row = this.sql.one<EventCategoryRow>(
      'SELECT * FROM event_categories WHERE name = ? COLLATE NOCASE',
      [name],
    );
    return row ? toEventCategory(row) : undefined;
  }

  insert(c: EventCategoryRecord): void {
    this.sql.run(
      `INSERT INTO event_categories (uuid, name, shortname, kill_chain, mitre_attack, mitre_capec, created_at,
         updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        c.uuid,
        c.name,
        c.shortname,
        c.killChain,
        JSON.stringify(c.mitreAttack),
        JSON.stringify(c.mitreCapec),
        c.createdAt,
        c.updatedAt,
      ],
    );
  }

  update(c: EventCategoryRecord): void {
    this.sql.run(
      `UPDATE event_categories SET name = ?, shortname = ?, kill_chain = ?, mitre_attack = ?, mitre_capec = ?,
         updated_at = ? WHERE uuid = ?`,
      [
        c.name,
        c.shortname,
        c.killChain,
        JSON.stringify(c.mitreAttack),
        JSON.stringify(c.mitreCapec),
        c.updatedAt,
        c.uuid,
      ],
    );
  }

  delete(uuid: string): boolean {
    return this.sql.run('DELETE FROM event_categories WHERE uuid = ?', [uuid]).changes > 0;
  }
}
