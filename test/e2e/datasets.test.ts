import type Cloudflare from 'cloudflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelope, result, TestServer } from './server.ts';

interface Dataset {
  uuid: string;
  name: string;
  isPublic: boolean;
  isAnalytics: boolean;
  deletedAt?: string | null;
}

describe('e2e: datasets through the SDK (E38–E42)', () => {
  const server = new TestServer();
  let client: Cloudflare;
  let account_id: string;

  beforeAll(async () => {
    await server.start();
    client = server.client();
    account_id = server.account;
  });
  afterAll(async () => {
    expect(await server.disposeTakingErrors()).toBe('');
  });

  it('creates, gets, lists, edits and soft-deletes a dataset', async () => {
    const datasets = client.cloudforceOne.threatEvents.datasets;

    const created = await envelope<Dataset>(
      datasets.create({ account_id, name: 'Phishing feed', isPublic: false }),
    );
    expect(created.success).toBe(true);
    expect(created.errors).toEqual([]);
    expect(created.result).toMatchObject({ name: 'Phishing feed', isPublic: false, isAnalytics: false });
    const uuid = created.result.uuid;
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);

    expect(await result<Dataset>(datasets.get(uuid, { account_id }))).toMatchObject({
      uuid,
      name: 'Phishing feed',
      isPublic: false,
    });

    const listed = await result<Dataset[]>(datasets.list({ account_id }));
    expect(listed.map((d) => d.uuid)).toContain(uuid);
    // The default dataset exists from the first use on.
    expect(listed.length).toBeGreaterThanOrEqual(2);

    const edited = await result<Dataset>(
      datasets.edit(uuid, { account_id, name: 'Phishing feed (curated)', isPublic: true }),
    );
    expect(edited).toMatchObject({ uuid, name: 'Phishing feed (curated)', isPublic: true });
    expect(await result<Dataset>(datasets.get(uuid, { account_id }))).toMatchObject({
      name: 'Phishing feed (curated)',
      isPublic: true,
    });

    const deleted = await result<{ uuid: string; name: string }>(datasets.delete(uuid, { account_id }));
    expect(deleted).toEqual({ uuid, name: 'Phishing feed (curated)' });

    // Hidden from the normal list and from get …
    const live = await result<Dataset[]>(datasets.list({ account_id }));
    expect(live.map((d) => d.uuid)).not.toContain(uuid);
    await expect(datasets.get(uuid, { account_id })).rejects.toMatchObject({ status: 404 });
    // … but still listed, with deletedAt, when asked for.
    const all = await result<Dataset[]>(datasets.list({ account_id, includeDeleted: true }));
    const gone = all.find((d) => d.uuid === uuid);
    expect(gone?.deletedAt).toEqual(expect.any(String));
    expect(Number.isNaN(Date.parse(gone?.deletedAt ?? ''))).toBe(false);
    const stillLive = all.filter((d) => d.uuid !== uuid);
    expect(stillLive.every((d) => d.deletedAt === null)).toBe(true);
  });

  it('answers 409 for a duplicate name and 400 for an invalid body', async () => {
    const datasets = client.cloudforceOne.threatEvents.datasets;
    await datasets.create({ account_id, name: 'Dup', isPublic: true });
    await expect(datasets.create({ account_id, name: 'Dup', isPublic: true })).rejects.toMatchObject({
      status: 409,
    });
    const err = await datasets.create({ account_id, name: '', isPublic: 'yes' as unknown as boolean }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ status: 400 });
  });
});
