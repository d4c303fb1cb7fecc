import { describe, expect, it } from 'vitest';
import { makeEvent, makeTestApp } from '../helpers.ts';
import { createEvent } from '../indicators/support.ts';

const t = makeTestApp();

describe('authorization of the link and tag write routes', () => {
  it('answers 401 without a token, 403 with a read token or another account’s token, and changes nothing', async () => {
    const owner = await t.account();
    const stranger = await t.account();
    const a = await createEvent(owner, { tags: ['keep'] });
    const b = await createEvent(owner);
    await owner.call('POST', `/events/relate/${a.uuid}/create`, { eventIds: [b.uuid] });
    const routes: [string, string, unknown][] = [
      ['POST', '/events/relationships/create', { parentId: a.uuid, childIds: [b.uuid] }],
      ['POST', `/events/relate/${a.uuid}/create`, { eventIds: [b.uuid] }],
      ['DELETE', `/events/relate/${a.uuid}`, undefined],
      ['POST', `/events/event_tag/${a.uuid}/create`, { tags: ['intruder'] }],
      ['DELETE', `/events/event_tag/${a.uuid}`, undefined],
      ['POST', '/events/create/bulk/relationships', { datasetId: a.datasetId, data: [makeEvent()] }],
    ];
    for (const [method, path, body] of routes) {
      const none = await owner.call(method, path, body, { token: null });
      expect(none.status, `${method} ${path} without token`).toBe(401);
      const read = await owner.call(method, path, body, { token: owner.readToken });
      expect(read.status, `${method} ${path} read token`).toBe(403);
      const foreign = await owner.call(method, path, body, { token: stranger.writeToken });
      expect(foreign.status, `${method} ${path} other account`).toBe(403);
      // The stranger calling its own account cannot see the owner's events.
      if (!path.includes('bulk')) {
        const own = await stranger.call(method, path, body);
        expect([400, 404], `${method} ${path} in the stranger's account`).toContain(own.status);
      }
    }
    const got = await owner.call('GET', `/events/dataset/${a.datasetId}/events/${a.uuid}`);
    expect(got.body.result.tags).toEqual(['keep']);
    expect(got.body.result.references).toEqual([b.uuid]);
    expect(got.body.result.hasChildren).toBe(false);
    const events = await owner.call('GET', `/events?datasetId=${a.datasetId}`);
    expect(events.body.result).toHaveLength(2);
  });

  it('lets a read token read indicators, relationships and the graph', async () => {
    const owner = await t.account();
    const a = await createEvent(owner);
    for (const path of [
      '/events/indicators',
      '/events/indicators/aggregate?aggregateBy=indicatorType',
      '/events/indicator-types',
      `/events/${a.uuid}/relationships?datasetId=${a.datasetId}`,
      `/events/graph?seeds=event:${a.uuid}`,
    ]) {
      const res = await owner.call('GET', path, undefined, { token: owner.readToken });
      expect(res.status, path).toBe(200);
      const stranger = await t.account();
      const foreign = await owner.call('GET', path, undefined, { token: stranger.readToken });
      expect(foreign.status, path).toBe(403);
    }
  });
});
