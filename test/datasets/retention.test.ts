import { describe, expect, it } from 'vitest';
import { makeEvent, makeTestApp } from '../helpers.ts';

const DAY = 86_400_000;

async function setup() {
  const t = makeTestApp();
  const account = await t.account();
  const created = await account.call('POST', '/events/dataset/create', {
    name: 'Deleted by mistake',
    isPublic: false,
  });
  const datasetId: string = created.body.result.uuid;
  const bulk = await account.call('POST', '/events/create/bulk', {
    datasetId,
    data: [makeEvent({ tags: ['keep'] }), makeEvent({ tags: ['keep'] }), makeEvent()],
  });
  expect(bulk.status).toBe(202);
  return { t, account, datasetId };
}

describe('soft-deleted datasets: undelete and purge', () => {
  it('restores a deleted dataset with every event within the retention window', async () => {
    const { t, account, datasetId } = await setup();
    expect((await account.call('DELETE', `/events/dataset/${datasetId}`)).status).toBe(200);
    expect((await account.call('GET', `/events?datasetId=${datasetId}`)).status).toBe(404);
    t.clock.advance(29 * DAY);
    const restored = await account.call('POST', `/events/dataset/${datasetId}/undelete`);
    expect(restored.status).toBe(200);
    expect(restored.body.result).toMatchObject({ uuid: datasetId, name: 'Deleted by mistake' });
    const list = await account.call(
      'GET',
      `/events?datasetId=${datasetId}&search.field=tags&search.op=equals&search.value=keep`,
    );
    expect(list.body.result_info.total_count).toBe(2);
  });

  it('purges a deleted dataset once the retention window has passed', async () => {
    const { t, account, datasetId } = await setup();
    await account.call('DELETE', `/events/dataset/${datasetId}`);
    t.clock.advance(31 * DAY);
    const all = await account.call('GET', '/events/dataset?includeDeleted=true');
    expect(all.body.result.map((d: { uuid: string }) => d.uuid)).not.toContain(datasetId);
    expect((await account.call('POST', `/events/dataset/${datasetId}/undelete`)).status).toBe(404);
    expect(t.stores.catalog(account.id).shardsOf(datasetId)).toEqual([]);
  });

  it('purges on request, refuses to undelete a live dataset or over a taken name, and needs a write token', async () => {
    const { account, datasetId } = await setup();
    expect((await account.call('POST', `/events/dataset/${datasetId}/undelete`)).status).toBe(400);
    expect((await account.call('POST', `/events/dataset/${datasetId}/purge`)).status).toBe(400);
    await account.call('DELETE', `/events/dataset/${datasetId}`);
    expect(
      (
        await account.call('POST', `/events/dataset/${datasetId}/undelete`, undefined, {
          token: account.readToken,
        })
      ).status,
    ).toBe(403);
    const clash = await account.call('POST', '/events/dataset/create', {
      name: 'Deleted by mistake',
      isPublic: false,
    });
    expect(clash.status).toBe(200);
    expect((await account.call('POST', `/events/dataset/${datasetId}/undelete`)).status).toBe(409);
    const purged = await account.call('POST', `/events/dataset/${datasetId}/purge`);
    expect(purged.status).toBe(200);
    expect(purged.body.result).toEqual({ uuid: datasetId, purged: true });
    expect((await account.call('POST', `/events/dataset/${datasetId}/undelete`)).status).toBe(404);
  });
});
