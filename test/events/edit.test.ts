import { describe, expect, it } from 'vitest';
import { makeEvent, makeTestApp, type TestAccount } from '../helpers.ts';
import { type CreatedEvent, create, dotted, list } from './support.ts';

const t = makeTestApp();

/** An account with one dataset and one event in it. */
async function setup(
  overrides: Record<string, unknown> = {},
): Promise<{ account: TestAccount; datasetId: string; event: CreatedEvent }> {
  const account = await t.account();
  const ds = await account.call('POST', '/events/dataset/create', { name: 'Edits', isPublic: false });
  const datasetId: string = ds.body.result.uuid;
  const event = await create(account, makeEvent({ datasetId, ...overrides }));
  return { account, datasetId, event };
}

const uuids = (body: { result: { uuid: string }[] }) => body.result.map((e) => e.uuid);

/** A well-formed event id that no event has: the last hex digit of a real one, changed. */
const missingId = (uuid: string) => uuid.slice(0, -1) + (uuid.endsWith('0') ? '1' : '0');

describe('GET /events/{event_id} (E05) and /events/dataset/{dataset_id}/events/{event_id} (E08)', () => {
  it('answers the event as it was created', async () => {
    const { account, datasetId, event } = await setup({ insight: 'seen twice' });
    const e05 = await account.call('GET', `/events/${event.uuid}`);
    expect(e05.status).toBe(200);
    expect(e05.body.result).toEqual(event);
    const e08 = await account.call('GET', `/events/dataset/${datasetId}/events/${event.uuid}`);
    expect(e08.status).toBe(200);
    expect(e08.body.result).toEqual(event);
  });

  it('answers 404 for an unknown event or the wrong dataset', async () => {
    const { account, datasetId, event } = await setup();
    const other = await account.call('POST', '/events/dataset/create', { name: 'Other', isPublic: false });
    for (const path of [
      `/events/${missingId(event.uuid)}`,
      '/events/not-an-event-id',
      `/events/dataset/${datasetId}/events/${missingId(event.uuid)}`,
      `/events/dataset/${other.body.result.uuid}/events/${event.uuid}`,
      `/events/dataset/no-such-dataset/events/${event.uuid}`,
    ]) {
      const res = await account.call('GET', path);
      expect(res.status, path).toBe(404);
      expect(res.body.success).toBe(false);
      expect(res.body.errors[0]?.code).toBeGreaterThanOrEqual(1000);
    }
  });
});

describe('PATCH (E06) and POST (E07) /events/{event_id}', () => {
  for (const method of ['PATCH', 'POST'] as const) {
    it(`${method} changes only the fields sent`, async () => {
      const { account, datasetId, event } = await setup({ attacker: 'Before', insight: 'kept' });
      t.clock.advance(5_000);
      const res = await account.call(method, `/events/${event.uuid}`, {
        datasetId,
        attacker: 'After',
        attackerCountry: 'Germany',
        tlp: 'RED',
      });
      expect(res.status).toBe(200);
      expect(res.body.result).toEqual({
        ...event,
        attacker: 'After',
        attackerCountry: 'DE',
        attackerCountryAlpha3: 'DEU',
        tlp: 'red',
        updatedAt: new Date(t.clock.now()).toISOString(),
      });
      const again = await account.call('GET', `/events/${event.uuid}`);
      expect(again.body.result).toEqual(res.body.result);
      const found = await list(
        account,
        `datasetId=${datasetId}&${dotted([{ field: 'attacker', op: 'equals', value: 'After' }])}`,
      );
      expect(uuids(found)).toEqual([event.uuid]);
    });

    it(`${method} needs datasetId, and the dataset must hold the event`, async () => {
      const { account, event } = await setup();
      const res = await account.call(method, `/events/${event.uuid}`, { attacker: 'x' });
      expect(res.status).toBe(400);
      expect(res.body.errors[0]?.message).toMatch(/^datasetId:/);
      const other = await account.call('POST', '/events/dataset/create', {
        name: 'Elsewhere',
        isPublic: false,
      });
      const wrong = await account.call(method, `/events/${event.uuid}`, {
        datasetId: other.body.result.uuid,
        attacker: 'x',
      });
      expect(wrong.status).toBe(404);
      expect((await account.call('GET', `/events/${event.uuid}`)).body.result.attacker).toBe(event.attacker);
    });
  }

  it('makes indicator search see the new indicator and forget the old one', async () => {
    const { account, datasetId, event } = await setup({ indicator: 'old.example', indicatorType: 'domain' });
    const res = await account.call('PATCH', `/events/${event.uuid}`, {
      datasetId,
      indicator: '203.0.113.50',
      indicatorType: 'ip',
    });
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({ indicator: '203.0.113.50', indicatorType: 'ip' });
    const search = (field: string, op: string, value: string) =>
      list(account, `datasetId=${datasetId}&${dotted([{ field, op, value }])}`).then(uuids);
    expect(await search('indicator', 'equals', '203.0.113.50')).toEqual([event.uuid]);
    expect(await search('indicatorType', 'equals', 'ip')).toEqual([event.uuid]);
    expect(await search('indicator', 'equals', 'old.example')).toEqual([]);
    expect(await search('indicatorType', 'equals', 'domain')).toEqual([]);
    expect(await search('event', 'find', '203.0.113.50')).toEqual([event.uuid]);
    expect(await search('event', 'find', 'old')).toEqual([]);
  });

  it('makes tag search see tags added (E24) and removed (E25) after create', async () => {
    const { account, datasetId, event } = await setup({ tags: ['initial'] });
    const tagged = (tag: string) =>
      list(account, `datasetId=${datasetId}&${dotted([{ field: 'tags', op: 'equals', value: tag }])}`).then(
        uuids,
      );
    const added = await account.call('POST', `/events/event_tag/${event.uuid}/create`, {
      tags: ['added-later'],
    });
    expect(added.status).toBe(200);
    expect((await account.call('GET', `/events/${event.uuid}`)).body.result.tags.sort()).toEqual([
      'added-later',
      'initial',
    ]);
    expect(await tagged('added-later')).toEqual([event.uuid]);
    // A date change keeps the tag findable, in the new order.
    await account.call('PATCH', `/events/${event.uuid}`, { datasetId, date: '2030-01-01T00:00:00Z' });
    expect(await tagged('added-later')).toEqual([event.uuid]);
    const removed = await account.call('DELETE', `/events/event_tag/${event.uuid}`, { tags: ['initial'] });
    expect(removed.status).toBe(200);
    expect(await tagged('initial')).toEqual([]);
    expect(await tagged('added-later')).toEqual([event.uuid]);
    expect((await account.call('GET', `/events/${event.uuid}`)).body.result.tags).toEqual(['added-later']);
  });

  it('makes full-text search see a new event text and insight', async () => {
    const { account, datasetId, event } = await setup({ event: 'quiet start', insight: 'nothing yet' });
    await account.call('PATCH', `/events/${event.uuid}`, {
      datasetId,
      event: 'loud beacon',
      insight: 'exfiltration confirmed',
    });
    const find = (value: string) =>
      list(account, `datasetId=${datasetId}&${dotted([{ field: 'event', op: 'find', value }])}`).then(uuids);
    expect(await find('beacon exfiltration')).toEqual([event.uuid]);
    expect(await find('quiet')).toEqual([]);
    expect(await find('nothing')).toEqual([]);
  });

  it('re-sorts the event when its date changes, also under a tag filter', async () => {
    const account = await t.account();
    const ds = await account.call('POST', '/events/dataset/create', { name: 'Dates', isPublic: false });
    const datasetId: string = ds.body.result.uuid;
    const made: CreatedEvent[] = [];
    for (const day of ['01', '02', '03']) {
      made.push(
        await create(account, makeEvent({ datasetId, date: `2025-04-${day}T00:00:00Z`, tags: ['watch'] })),
      );
    }
    const [oldest, middle, newest] = made as [CreatedEvent, CreatedEvent, CreatedEvent];
    const tagged = `datasetId=${datasetId}&${dotted([{ field: 'tags', op: 'equals', value: 'watch' }])}`;
    expect(uuids(await list(account, tagged))).toEqual([newest.uuid, middle.uuid, oldest.uuid]);

    const res = await account.call('PATCH', `/events/${oldest.uuid}`, {
      datasetId,
      date: '2025-05-01T00:00:00Z',
    });
    expect(res.status).toBe(200);
    expect(res.body.result.date).toBe('2025-05-01T00:00:00.000Z');
    expect(uuids(await list(account, `datasetId=${datasetId}`))).toEqual([
      oldest.uuid,
      newest.uuid,
      middle.uuid,
    ]);
    expect(uuids(await list(account, tagged))).toEqual([oldest.uuid, newest.uuid, middle.uuid]);
    expect(uuids(await list(account, `${tagged}&order=asc`))).toEqual([
      middle.uuid,
      newest.uuid,
      oldest.uuid,
    ]);
    const inMay = await list(
      account,
      `datasetId=${datasetId}&${dotted([{ field: 'date', op: 'gte', value: '2025-05-01T00:00:00Z' }])}`,
    );
    expect(uuids(inMay)).toEqual([oldest.uuid]);
  });

  it('refuses an invalid date or a mistyped field, changing nothing', async () => {
    const { account, datasetId, event } = await setup();
    for (const bad of ['soon', '2025-02-30T00:00:00Z']) {
      const date = await account.call('PATCH', `/events/${event.uuid}`, { datasetId, date: bad });
      expect(date.status, bad).toBe(400);
      expect(date.body.errors[0]?.message).toMatch(/^date:/);
    }
    const typed = await account.call('PATCH', `/events/${event.uuid}`, { datasetId, attacker: 5, tlp: '' });
    expect(typed.status).toBe(400);
    expect(typed.body.errors.map((e) => e.message.split(':')[0]).sort()).toEqual(['attacker', 'tlp']);
    expect((await account.call('GET', `/events/${event.uuid}`)).body.result).toEqual(event);
  });

  it('answers 404 for an unknown event', async () => {
    const { account, datasetId, event } = await setup();
    const res = await account.call('PATCH', `/events/${missingId(event.uuid)}`, { datasetId, attacker: 'x' });
    expect(res.status).toBe(404);
  });
});

describe('raw payloads (E16–E19)', () => {
  it('E16 answers the raw payload the event was created with', async () => {
    const { account, event } = await setup({
      raw: { data: { foo: 'bar', n: 1 }, source: 'feed-x' },
      tlp: 'Green',
    });
    const res = await account.call('GET', `/events/${event.uuid}/raw/${event.rawId}`);
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({
      id: event.rawId,
      data: { foo: 'bar', n: 1 },
      source: 'feed-x',
      tlp: 'green',
      created: event.createdAt,
    });
    expect(res.body.result.accountId).toEqual(expect.any(Number));
    expect(res.body.result.updated).toEqual(expect.any(String));
  });

  it('E16 answers 404 for a raw id that is not the event’s', async () => {
    const { account, event } = await setup();
    const other = await create(account, makeEvent());
    const res = await account.call('GET', `/events/${event.uuid}/raw/${other.rawId}`);
    expect(res.status).toBe(404);
  });

  for (const method of ['PATCH', 'POST'] as const) {
    it(`${method} raw (E${method === 'PATCH' ? 17 : 18}) replaces the payload`, async () => {
      const { account, datasetId, event } = await setup({ raw: { data: { v: 1 } } });
      t.clock.advance(1000);
      const res = await account.call(method, `/events/${event.uuid}/raw/${event.rawId}`, {
        data: { v: 2, note: 'corrected' },
        tlp: 'RED',
      });
      expect(res.status).toBe(200);
      expect(res.body.result).toEqual({ id: event.rawId, data: { v: 2, note: 'corrected' } });
      const got = await account.call('GET', `/events/${event.uuid}/raw/${event.rawId}`);
      expect(got.body.result).toMatchObject({ data: { v: 2, note: 'corrected' }, tlp: 'red' });
      expect(got.body.result.updated).toBe(new Date(t.clock.now()).toISOString());
      const e19 = await account.call('GET', `/events/raw/${datasetId}/${event.uuid}`);
      expect(e19.body.result.data).toEqual({ v: 2, note: 'corrected' });
    });
  }

  it('refuses raw data that is not an object', async () => {
    const { account, event } = await setup();
    const res = await account.call('PATCH', `/events/${event.uuid}/raw/${event.rawId}`, { data: 'text' });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]?.message).toMatch(/^data:/);
  });

  it('E19 answers the raw payload by dataset and 404s in another dataset', async () => {
    const { account, datasetId, event } = await setup({ raw: { data: { where: 'dataset' } } });
    const res = await account.call('GET', `/events/raw/${datasetId}/${event.uuid}`);
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({ id: event.rawId, data: { where: 'dataset' } });
    const other = await account.call('POST', '/events/dataset/create', { name: 'Not here', isPublic: false });
    expect((await account.call('GET', `/events/raw/${other.body.result.uuid}/${event.uuid}`)).status).toBe(
      404,
    );
  });

  it('an event edit may change the raw payload too', async () => {
    const { account, datasetId, event } = await setup({ raw: { data: { a: 1 } } });
    const res = await account.call('PATCH', `/events/${event.uuid}`, { datasetId, raw: { data: { a: 2 } } });
    expect(res.status).toBe(200);
    const raw = await account.call('GET', `/events/${event.uuid}/raw/${event.rawId}`);
    expect(raw.body.result.data).toEqual({ a: 2 });
  });
});
