import { describe, expect, it } from 'vitest';
import { makeEvent, makeTestApp, type TestAccount } from '../helpers.ts';

const t = makeTestApp();
const DEFAULT_NAME = 'Cloudforce One Threat Events';

interface Dataset {
  uuid: string;
  name: string;
  isPublic: boolean;
  isAnalytics: boolean;
  indicatorWriteMode: string;
  deletedAt?: string | null;
}

async function datasets(account: TestAccount, query = ''): Promise<Dataset[]> {
  const res = await account.call('GET', `/events/dataset${query}`);
  expect(res.status).toBe(200);
  return res.body.result;
}

async function createDataset(account: TestAccount, body: Record<string, unknown>): Promise<Dataset> {
  const res = await account.call('POST', '/events/dataset/create', body);
  expect(res.status).toBe(200);
  return res.body.result;
}

describe('the default dataset', () => {
  it('exists on first use, once', async () => {
    const account = await t.account();
    const first = await datasets(account);
    expect(first).toEqual([
      {
        uuid: expect.any(String),
        name: DEFAULT_NAME,
        isPublic: false,
        isAnalytics: false,
        indicatorWriteMode: 'full',
      },
    ]);
    expect(await datasets(account)).toEqual(first);
  });

  it('receives events created without datasetId, and is what GET /events lists', async () => {
    const account = await t.account();
    const created = await account.call('POST', '/events/create', makeEvent());
    const [home] = await datasets(account);
    expect(created.body.result.datasetId).toBe(home?.uuid);
    const listed = await account.call('GET', '/events');
    expect(listed.body.result.map((e: { uuid: string }) => e.uuid)).toEqual([created.body.result.uuid]);
  });

  it('cannot be deleted', async () => {
    const account = await t.account();
    const [home] = await datasets(account);
    const res = await account.call('DELETE', `/events/dataset/${home?.uuid}`);
    expect(res.status).toBe(400);
    expect(await datasets(account)).toHaveLength(1);
  });
});

describe('dataset create, get, edit (E39–E41)', () => {
  it('creates a dataset and answers it on get and in the list', async () => {
    const account = await t.account();
    const made = await createDataset(account, { name: 'Phishing feed', isPublic: true });
    expect(made).toEqual({
      uuid: expect.any(String),
      name: 'Phishing feed',
      isPublic: true,
      isAnalytics: false,
      indicatorWriteMode: 'full',
    });
    const got = await account.call('GET', `/events/dataset/${made.uuid}`);
    expect(got.status).toBe(200);
    expect(got.body.result).toEqual(made);
    expect((await datasets(account)).map((d) => d.name).sort()).toEqual([DEFAULT_NAME, 'Phishing feed']);
  });

  it('marks a dataset as analytics when asked', async () => {
    const account = await t.account();
    const made = await createDataset(account, { name: 'Scores', isPublic: false, isAnalytics: true });
    expect(made.isAnalytics).toBe(true);
  });

  it('edits name and isPublic', async () => {
    const account = await t.account();
    const made = await createDataset(account, { name: 'Old name', isPublic: false });
    const res = await account.call('PATCH', `/events/dataset/${made.uuid}`, {
      name: 'New name',
      isPublic: true,
    });
    expect(res.status).toBe(200);
    expect(res.body.result).toEqual({ ...made, name: 'New name', isPublic: true });
    expect((await account.call('GET', `/events/dataset/${made.uuid}`)).body.result).toEqual(res.body.result);
    // Renaming to its own name is not a clash.
    const same = await account.call('PATCH', `/events/dataset/${made.uuid}`, {
      name: 'New name',
      isPublic: false,
    });
    expect(same.status).toBe(200);
  });

  it('needs both name and isPublic, with the right types', async () => {
    const account = await t.account();
    const res = await account.call('POST', '/events/dataset/create', { name: 5 });
    expect(res.status).toBe(400);
    const paths = res.body.errors.map((e) => e.message.split(':')[0]).sort();
    expect(paths).toEqual(['isPublic', 'name']);
    const made = await createDataset(account, { name: 'Partial', isPublic: false });
    const edit = await account.call('PATCH', `/events/dataset/${made.uuid}`, { name: 'Only name' });
    expect(edit.status).toBe(400);
    expect(edit.body.errors[0]?.message).toMatch(/^isPublic:/);
    const blank = await account.call('POST', '/events/dataset/create', { name: '   ', isPublic: false });
    expect(blank.status).toBe(400);
  });

  it('refuses a duplicate name with 409, on create and on edit', async () => {
    const account = await t.account();
    const a = await createDataset(account, { name: 'Unique', isPublic: false });
    const dup = await account.call('POST', '/events/dataset/create', { name: 'Unique', isPublic: true });
    expect(dup.status).toBe(409);
    expect(dup.body.errors[0]?.message).toMatch(/Unique/);
    const b = await createDataset(account, { name: 'Other', isPublic: false });
    const clash = await account.call('PATCH', `/events/dataset/${b.uuid}`, {
      name: 'Unique',
      isPublic: false,
    });
    expect(clash.status).toBe(409);
    const defaultClash = await account.call('POST', '/events/dataset/create', {
      name: DEFAULT_NAME,
      isPublic: false,
    });
    expect(defaultClash.status).toBe(409);
    const names = (await datasets(account)).map((d) => d.name).sort();
    expect(names).toEqual([DEFAULT_NAME, 'Other', 'Unique']);
    expect((await account.call('GET', `/events/dataset/${a.uuid}`)).body.result.name).toBe('Unique');
  });

  it('answers 404 for an unknown dataset', async () => {
    const account = await t.account();
    for (const [method, body] of [
      ['GET', undefined],
      ['PATCH', { name: 'x', isPublic: false }],
      ['DELETE', undefined],
    ] as const) {
      const res = await account.call(method, '/events/dataset/no-such-dataset', body);
      expect(res.status, method).toBe(404);
    }
  });
});

describe('dataset soft delete (E42)', () => {
  it('hides the dataset, keeps it with deletedAt under includeDeleted', async () => {
    const account = await t.account();
    const keep = await createDataset(account, { name: 'Keep', isPublic: false });
    const gone = await createDataset(account, { name: 'Gone', isPublic: false });
    t.clock.advance(90_000);
    const res = await account.call('DELETE', `/events/dataset/${gone.uuid}`);
    expect(res.status).toBe(200);
    expect(res.body.result).toEqual({ name: 'Gone', uuid: gone.uuid });

    expect((await datasets(account)).map((d) => d.uuid)).not.toContain(gone.uuid);
    expect(await datasets(account, '?includeDeleted=false')).toEqual(await datasets(account));
    const withDeleted = await datasets(account, '?includeDeleted=true');
    expect(withDeleted.find((d) => d.uuid === gone.uuid)).toEqual({
      ...gone,
      deletedAt: new Date(t.clock.now()).toISOString(),
    });
    expect(withDeleted.find((d) => d.uuid === keep.uuid)?.deletedAt).toBeNull();

    expect((await account.call('GET', `/events/dataset/${gone.uuid}`)).status).toBe(404);
    expect((await account.call('DELETE', `/events/dataset/${gone.uuid}`)).status).toBe(404);
    expect(
      (await account.call('PATCH', `/events/dataset/${gone.uuid}`, { name: 'Back', isPublic: false })).status,
    ).toBe(404);
  });

  it('makes the dataset’s events unreachable', async () => {
    const account = await t.account();
    const ds = await createDataset(account, { name: 'Doomed', isPublic: false });
    const event = await account.call('POST', '/events/create', makeEvent({ datasetId: ds.uuid }));
    const uuid: string = event.body.result.uuid;
    expect((await account.call('GET', `/events?datasetId=${ds.uuid}`)).body.result).toHaveLength(1);

    await account.call('DELETE', `/events/dataset/${ds.uuid}`);
    const listed = await account.call('GET', `/events?datasetId=${ds.uuid}`);
    expect(listed.status).toBe(404);
    expect(listed.body.errors[0]?.message).toMatch(ds.uuid);
    const all = await account.call('GET', '/events?datasetId=all');
    expect(all.body.result.map((e: { uuid: string }) => e.uuid)).not.toContain(uuid);
    expect((await account.call('GET', `/events/${uuid}`)).status).toBe(404);
    expect((await account.call('GET', `/events/dataset/${ds.uuid}/events/${uuid}`)).status).toBe(404);
    const write = await account.call('POST', '/events/create', makeEvent({ datasetId: ds.uuid }));
    expect(write.status).toBe(404);
    const bulk = await account.call('POST', '/events/create/bulk', {
      datasetId: ds.uuid,
      data: [makeEvent()],
    });
    expect(bulk.status).toBe(404);
  });

  it('frees the name for a new dataset', async () => {
    const account = await t.account();
    const first = await createDataset(account, { name: 'Reused', isPublic: false });
    await account.call('DELETE', `/events/dataset/${first.uuid}`);
    const second = await createDataset(account, { name: 'Reused', isPublic: true });
    expect(second.uuid).not.toBe(first.uuid);
  });
});

describe('dataset scopes on GET /events', () => {
  it('all, analytics and operational select datasets by kind; a scope must be alone', async () => {
    const account = await t.account();
    const ops = await createDataset(account, { name: 'Ops', isPublic: false });
    const stats = await createDataset(account, { name: 'Stats', isPublic: false, isAnalytics: true });
    const inOps = await account.call('POST', '/events/create', makeEvent({ datasetId: ops.uuid }));
    const inStats = await account.call('POST', '/events/create', makeEvent({ datasetId: stats.uuid }));
    const inHome = await account.call('POST', '/events/create', makeEvent());
    const ids = async (q: string) =>
      ((await account.call('GET', `/events?${q}`)).body.result as { uuid: string }[])
        .map((e) => e.uuid)
        .sort();
    const all = [inOps, inStats, inHome].map((r) => r.body.result.uuid as string).sort();
    expect(await ids('datasetId=all')).toEqual(all);
    expect(await ids('datasetId=*')).toEqual(all);
    expect(await ids('datasetId=analytics')).toEqual([inStats.body.result.uuid]);
    expect(await ids('datasetId=operational')).toEqual(
      [inOps.body.result.uuid, inHome.body.result.uuid].sort(),
    );
    const mixed = await account.call('GET', `/events?datasetId=all,${ops.uuid}`);
    expect(mixed.status).toBe(400);
    expect(mixed.body.errors[0]?.message).toMatch(/^datasetId:/);
  });
});
