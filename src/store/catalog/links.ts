import type { Sql } from '../sql.ts';

/** One end of a link: an event and the dataset that holds it. */
export interface EventRef {
  uuid: string;
  datasetId: string;
}

export interface RelationshipRecord {
  parent: EventRef;
  child: EventRef;
  type: string;
  createdAt: number;
}

interface RelationshipRow {
  parent_uuid: string;
  parent_dataset: string;
  child_uuid: string;
  child_dataset: string;
  type: string;
  created_at: number;
}

const toRelationship = (r: RelationshipRow): RelationshipRecord => ({
  parent: { uuid: r.parent_uuid, datasetId: r.parent_dataset },
  child: { uuid: r.child_uuid, datasetId: r.child_dataset },
  type: r.type,
  createdAt: r.created_at,
});

/**
 * Links between events of one account (account.db): references (E22/E23) and typed
 * parent→child relationships (E20/E21). They cross datasets and shards, so they live here,
 * where one transaction keeps both directions exact.
 */
export class Links {
  constructor(private readonly sql: Sql) {}

  transaction<T>(fn: () => T): T {
    return this.sql.transaction(fn);
  }

  /** Adds references from one event to others; answers how many were new. */
  addReferences(from: EventRef, to: readonly EventRef[], now: number): number {
    let added = 0;
    for (const t of to) {
      added += this.sql.run(
        `INSERT INTO event_references (from_uuid, from_dataset, to_uuid, to_dataset, created_at)
         VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        [from.uuid, from.datasetId, t.uuid, t.datasetId, now],
      ).changes;
    }
    return added;
  }

  /** Removes the named references of an event, or all of them; answers how many went. */
  removeReferences(fromUuid: string, toUuids?: readonly string[]): number {
    if (!toUuids) return this.sql.run('DELETE FROM event_references WHERE from_uuid = ?', [fromUuid]).changes;
    let removed = 0;
    for (const t of toUuids) {
      removed += this.sql.run('DELETE FROM event_references WHERE from_uuid = ? AND to_uuid = ?', [
        fromUuid,
        t,
      ]).changes;
    }
    return removed;
  }

  /** For each event: the events it references, and the events that reference it. */
  referencesOf(uuids: readonly string[]): Map<string, { references: string[]; referenced: string[] }> {
    const out = new Map<string, { references: string[]; referenced: string[] }>();
    if (uuids.length === 0) return out;
    for (const u of uuids) out.set(u, { references: [], referenced: [] });
    const list = JSON.stringify(uuids);
    for (const r of this.sql.all<{ from_uuid: string; to_uuid: string }>(
      'SELECT from_uuid, to_uuid FROM event_references WHERE from_uuid IN (SELECT value FROM json_each(?)) ORDER BY to_uuid',
      [list],
    )) {
      out.get(r.from_uuid)?.references.push(r.to_uuid);
    }
    for (const r of this.sql.all<{ from_uuid: string; to_uuid: string }>(
      'SELECT from_uuid, to_uuid FROM event_references WHERE to_uuid IN (SELECT value FROM json_each(?)) ORDER BY from_uuid',
      [list],
    )) {
      out.get(r.to_uuid)?.referenced.push(r.from_uuid);
    }
    return out;
  }

  /** Adds one relationship; false when it already existed. */
  addRelationship(rel: RelationshipRecord): boolean {
    return (
      this.sql.run(
        `INSERT INTO event_relationships (parent_uuid, parent_dataset, child_uuid, child_dataset, type, created_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        [rel.parent.uuid, rel.parent.datasetId, rel.child.uuid, rel.child.datasetId, rel.type, rel.createdAt],
      ).changes > 0
    );
  }

  childrenOf(parentUuid: string): RelationshipRecord[] {
    return this.sql
      .all<RelationshipRow>(
        'SELECT * FROM event_relationships WHERE parent_uuid = ? ORDER BY child_uuid, type',
        [parentUuid],
      )
      .map(toRelationship);
  }

  parentsOf(childUuid: string): RelationshipRecord[] {
    return this.sql
      .all<RelationshipRow>(
        'SELECT * FROM event_relationships WHERE child_uuid = ? ORDER BY parent_uuid, type',
        [childUuid],
      )
      .map(toRelationship);
  }

  hasChildren(parentUuid: string): boolean {
    return (
      this.sql.one('SELECT 1 FROM event_relationships WHERE parent_uuid = ? LIMIT 1', [parentUuid]) !==
      undefined
    );
  }

  /** Every relationship touching an event, either side. */
  relationshipsOf(uuid: string): RelationshipRecord[] {
    return [...this.childrenOf(uuid), ...this.parentsOf(uuid)];
  }

  /** Rewrites the dataset of an event on both kinds of link (used when events move). */
  moveEvent(uuid: string, datasetId: string): void {
    this.sql.run('UPDATE event_references SET from_dataset = ? WHERE from_uuid = ?', [datasetId, uuid]);
    this.sql.run('UPDATE event_references SET to_dataset = ? WHERE to_uuid = ?', [datasetId, uuid]);
    this.sql.run('UPDATE event_relationships SET parent_dataset = ? WHERE parent_uuid = ?', [
      datasetId,
      uuid,
    ]);
    this.sql.run('UPDATE event_relationships SET child_dataset = ? WHERE child_uuid = ?', [datasetId, uuid]);
  }

  /** Forgets every link of an event (used when events are deleted). */
  forgetEvent(uuid: string): void {
    this.sql.run('DELETE FROM event_references WHERE from_uuid = ? OR to_uuid = ?', [uuid, uuid]);
    this.sql.run('DELETE FROM event_relationships WHERE parent_uuid = ? OR child_uuid = ?', [uuid, uuid]);
  }
}
