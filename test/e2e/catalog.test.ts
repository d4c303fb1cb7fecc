import type Cloudflare from 'cloudflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelope, result, TestServer } from './server.ts';

interface Tag {
  uuid: string;
  value: string;
  motive?: string;
  originCountryISO?: string | null;
  categoryUuid?: string;
  properties?: Record<string, unknown> | null;
  version?: number;
}
interface TagCategory {
  uuid: string;
  name: string;
  schema?: unknown[] | null;
}
interface EventCategory {
  uuid: string;
  name: string;
  killChain: number;
  mitreAttack?: string[];
  shortname?: string;
}

describe('e2e: tags, tag categories, event categories and look-up lists through the SDK', () => {
  const server = new TestServer();
  let te: Cloudflare['cloudforceOne']['threatEvents'];
  let account_id: string;
  let datasetId: string;

  beforeAll(async () => {
    await server.start();
    te = server.client().cloudforceOne.threatEvents;
    account_id = server.account;
    datasetId = (
      await result<{ uuid: string }>(te.datasets.create({ account_id, name: 'catalog e2e', isPublic: false }))
    ).uuid;
    await te.bulkCreate({
      account_id,
      datasetId,
      data: [
        {
          category: 'Reconnaissance',
          date: '2025-04-01T00:00:00Z',
          event: 'Scanning of the VPN gateway',
          raw: { data: { n: 1 } },
          tlp: 'green',
          attacker: 'APT28',
          targetIndustry: 'Energy',
          tags: ['apt28'],
        },
        {
          category: 'Exfiltration',
          date: '2025-04-02T00:00:00Z',
          event: 'Mailbox export',
          raw: { data: { n: 2 } },
          tlp: 'amber',
          attacker: 'Sandworm',
          targetIndustry: 'Government, Administration',
        },
      ],
    });
  });
  afterAll(async () => {
    expect(server.stderr).toBe('');
    await server.dispose();
  });

  it('creates, lists, edits and deletes a tag category and a tag validated by it', async () => {
    const category = await result<TagCategory>(
      te.tags.categories.create({
        account_id,
        name: 'Actors (e2e)',
        description: 'Threat actors',
        schema: [
          { key: 'motive', kind: 'enum', allowedValues: ['espionage', 'financial'], enforcement: 'error' },
          { key: 'since', kind: 'date', enforcement: 'error' },
        ],
      }),
    );
    expect(category.name).toBe('Actors (e2e)');
    const listed = await result<{ categories: TagCategory[] }>(
      te.tags.categories.list({ account_id, search: 'e2e' }),
    );
    expect(listed.categories.map((c) => c.uuid)).toContain(category.uuid);

    const tag = await result<Tag>(
      te.tags.create({
        account_id,
        value: 'Fancy Bear',
        categoryUuid: category.uuid,
        motive: 'espionage',
        originCountryISO: 'ru',
        properties: { motive: 'espionage', since: '2004-01-01' },
      }),
    );
    expect(tag).toMatchObject({
      value: 'Fancy Bear',
      motive: 'espionage',
      originCountryISO: 'RU',
      categoryUuid: category.uuid,
    });
    // A property that breaks the category's schema is a 400 naming it.
    await expect(
      te.tags.create({
        account_id,
        value: 'Broken',
        categoryUuid: category.uuid,
        properties: { motive: 'fun' },
      }),
    ).rejects.toMatchObject({ status: 400 });

    const page = await result<{ tags: Tag[]; pagination: { totalCount: number } }>(
      te.tags.list({
        account_id,
        search: 'fancy',
        filters: [{ field: 'originCountryISO', op: 'equals', value: 'RU' }],
      }),
    );
    expect(page.tags.map((t) => t.uuid)).toEqual([tag.uuid]);
    expect(page.pagination.totalCount).toBe(1);

    const edited = await result<Tag>(
      te.tags.edit(tag.uuid, { account_id, properties: { since: '2007-06-01' } }),
    );
    expect(edited.properties).toEqual({ motive: 'espionage', since: '2007-06-01' });
    expect(edited.version).toBe((tag.version ?? 1) + 1);

    const renamed = await result<TagCategory>(
      te.tags.categories.edit(category.uuid, { account_id, name: 'Actors (renamed)' }),
    );
    expect(renamed.name).toBe('Actors (renamed)');
    expect(await result<{ uuid: string }>(te.tags.delete(tag.uuid, { account_id }))).toEqual({
      uuid: tag.uuid,
    });
    expect(await result<{ uuid: string }>(te.tags.categories.delete(category.uuid, { account_id }))).toEqual({
      uuid: category.uuid,
    });
    // Tags named by events were created in the account's tag table on ingest.
    const fromEvents = await result<{ tags: Tag[] }>(te.tags.list({ account_id, search: 'apt28' }));
    expect(fromEvents.tags.map((t) => t.value)).toContain('apt28');
  });

  it('manages event categories and reads the real kill chain and ATT&CK catalog', async () => {
    const catalog = await result<EventCategory[]>(te.categories.catalog.list({ account_id }));
    const recon = catalog.find((c) => c.name === 'Reconnaissance');
    expect(recon?.killChain).toBeGreaterThan(0);
    expect(catalog.some((c) => (c.mitreAttack ?? []).includes('T1595'))).toBe(true);

    const created = await result<EventCategory>(
      te.categories.create({
        account_id,
        name: 'Credential phishing',
        killChain: 3,
        mitreAttack: ['T1566'],
        shortname: 'cred-phish',
      }),
    );
    expect(created).toMatchObject({ name: 'Credential phishing', killChain: 3, mitreAttack: ['T1566'] });
    await expect(
      te.categories.create({ account_id, name: 'Bad ids', killChain: 1, mitreAttack: ['T9999'] }),
    ).rejects.toMatchObject({ status: 400 });
    expect(await result<EventCategory>(te.categories.get(created.uuid, { account_id }))).toEqual(created);
    const edited = await result<EventCategory>(
      te.categories.edit(created.uuid, { account_id, killChain: 4 }),
    );
    expect(edited.killChain).toBe(4);
    const listed = await result<EventCategory[]>(te.categories.list({ account_id }));
    expect(listed.map((c) => c.uuid)).toContain(created.uuid);
    expect(await result<{ uuid: string }>(te.categories.delete(created.uuid, { account_id }))).toEqual({
      uuid: created.uuid,
    });
    await expect(te.categories.get(created.uuid, { account_id })).rejects.toMatchObject({ status: 404 });
  });

  it('lists attackers, countries and target industries', async () => {
    expect(await result<string[]>(te.attackers.list({ account_id, datasetIds: [datasetId] }))).toEqual([
      'APT28',
      'Sandworm',
    ]);
    const countries = await result<{ alpha2: string; alpha3: string; name: string }[]>(
      te.countries.list({ account_id }),
    );
    expect(countries.find((c) => c.alpha2 === 'DE')).toMatchObject({ alpha3: 'DEU', name: 'Germany' });
    expect(await result<string[]>(te.targetIndustries.list({ account_id, datasetIds: [datasetId] }))).toEqual(
      ['Energy', 'Government, Administration'],
    );
    expect(await result<string[]>(te.targetIndustries.byDataset.list(datasetId, { account_id }))).toEqual([
      'Energy',
      'Government, Administration',
    ]);
    const catalog = await result<string[]>(te.targetIndustries.catalog.list({ account_id }));
    expect(catalog).toContain('Energy');
    expect(catalog.length).toBeGreaterThan(100);
    // A read token may read them; no token may not.
    const noToken = server.client(null).cloudforceOne.threatEvents;
    await expect(noToken.attackers.list({ account_id })).rejects.toMatchObject({ status: 401 });
    const listedEnvelope = await envelope<string[]>(
      te.attackers.list({ account_id, datasetIds: [datasetId] }),
    );
    expect(listedEnvelope.success).toBe(true);
  });
});
