/**
 * Shards written before journal images became row copies kept each image as JSON in the
 * journal row itself. Those entries stay revertible after the upgrade: this test rewrites a
 * fresh journal into the old layout and reverts through it.
 */
import { describe, expect, it } from 'vitest';
import { makeEvent, makeTestApp } from '../helpers.ts';

/** The image JSON the previous version stored in journal.before. */
const OLD_IMAGE = `json_object(
  'id', e.id, 'uuid', e.uuid, 'dateMs', e.date_ms, 'createdMs', e.created_ms, 'updatedMs', e.updated_ms,
  'attacker', e.attacker, 'attackerCountry', e.attacker_country, 'category', e.category, 'event', e.event,
  'indicator', e.indicator, 'indicatorType', e.indicator_type, 'insight', e.insight, 'killChain', e.kill_chain,
  'mitreAttack', json(e.mitre_attack), 'mitreCapec', json(e.mitre_capec), 'tags', json(e.tags),
  'indicators', json(e.indicators), 'targetCountry', e.target_country, 'targetIndustry', e.target_industry,
  'tlp', e.tlp, 'releasabilityId', e.releasability_id, 'rawId', e.raw_id,
  'hasChildren', CASE WHEN e.has_children = 1 THEN json('true') ELSE json('false') END,
  'source', json(e.source),
  'raw', json_object('rawId', r.raw_id, 'source', r.source, 'tlp', r.tlp, 'data', json(r.data),
                     'createdMs', r.created_ms, 'updatedMs', r.updated_ms))`;

describe('E11 revert through journal entries in the previous layout', () => {
  it('restores edited and deleted events from images stored as JSON in the journal row', async () => {
    const t = makeTestApp();
    const account = await t.account();
    const ds = (await account.call('POST', '/events/dataset/create', { name: 'Old', isPublic: false })).body
      .result.uuid as string;
    const created = await account.call('POST', '/events/create/bulk', {
      datasetId: ds,
      includeCreatedEvents: true,
      data: [makeEvent({ insight: 'first words' }), makeEvent({ insight: 'second words' })],
    });
    const [a, b] = (created.body.result.createdEvents as { uuid: string }[]).map((e) => e.uuid);
    const before = (await account.call('GET', `/events?datasetId=${ds}&pageSize=10`)).body.result;
    const bookmark = (await account.call('GET', `/events/${ds}/bookmark`)).body.result.bookmark as string;
    t.clock.advance(1000);
    expect(
      (await account.call('PATCH', `/events/${a}`, { datasetId: ds, insight: 'rewritten words' })).status,
    ).toBe(200);
    expect((await account.call('DELETE', `/events/${ds}/delete`, { eventIds: [b] })).body.result).toBe(1);

    // Move the images of the edit and the delete into the old layout.
    const sql = t.databases.shard(account.id, `${ds}.0`);
    const moved = sql.run(
      `UPDATE journal SET before = (
         SELECT json_group_array(json(${OLD_IMAGE})) FROM journal_events e
         JOIN journal_raw r ON r.seq = e.seq AND r.event_id = e.id WHERE e.seq = journal.seq)
       WHERE op IN ('update', 'delete')`,
    );
    expect(moved.changes).toBe(2);
    sql.run('DELETE FROM journal_events');
    sql.run('DELETE FROM journal_raw');

    const res = await account.call('POST', `/events/${ds}/revert-do`, { revertBookmark: bookmark });
    expect(res.status).toBe(200);
    expect(res.body.result.eventsChanged).toBe(2);
    const after = (await account.call('GET', `/events?datasetId=${ds}&pageSize=10`)).body.result;
    expect(after).toEqual(before);
    const found = await account.call(
      'GET',
      `/events?datasetId=${ds}&search=${encodeURIComponent(JSON.stringify([{ field: 'event', op: 'find', value: 'rewritten' }]))}`,
    );
    expect(found.status).toBe(200);
    expect(found.body.result).toEqual([]);
  });
});
