import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTORS } from '../../src/catalog/actors.ts';
import { type Ctx, defaultConfig } from '../../src/domain/context.ts';
import { seedActors, THREAT_ACTOR_CATEGORY } from '../../src/domain/tags/seed.ts';
import { FileDatabases } from '../../src/runtime/node/sqlite.ts';
import { makeTestApp, type TestAccount, type TestApp } from '../helpers.ts';

const run = promisify(execFile);

let t: TestApp;
beforeAll(() => {
  t = makeTestApp();
});

const ctxFor = (a: TestAccount, permission: 'read' | 'write' = 'write'): Ctx => ({
  accountId: a.id,
  permission,
  tokenId: 'test',
  email: null,
  clock: t.clock,
  ids: t.ids,
  stores: t.stores,
  config: defaultConfig,
});

const findTag = async (a: TestAccount, value: string) => {
  const q = encodeURIComponent(JSON.stringify([{ field: 'value', op: 'equals', value }]));
  const res = await a.call('GET', `/events/tags?filters=${q}`);
  expect(res.status).toBe(200);
  return res.body.result.tags[0];
};

describe('seed actors (domain)', () => {
  it('creates one typed tag per actor, then changes nothing on a second run', async () => {
    const a = await t.account();
    const first = seedActors(ctxFor(a));
    expect(first).toMatchObject({ created: ACTORS.length, updated: 0, unchanged: 0 });

    const apt1 = await findTag(a, 'APT1');
    expect(apt1).toMatchObject({
      value: 'APT1',
      categoryUuid: first.categoryUuid,
      categoryName: THREAT_ACTOR_CATEGORY,
      originCountryISO: 'CN',
      motive: 'Espionage',
      confidence: 5,
      tlp: 'clear',
      version: 1,
      properties: {
        targetCategories: ['Private sector', 'Government'],
        mitreGroupIds: ['G0006'],
        attributionConfidence: 50,
      },
      externalReferences: [
        { url: 'https://attack.mitre.org/groups/G0006/', description: 'MITRE ATT&CK group G0006' },
      ],
    });
    expect(apt1.aliases).toContainEqual({ value: 'Comment Crew' });
    expect(apt1.description).toMatch(/PLA Unit 61398/);

    const cats = await a.call('GET', '/events/tags/categories?search=threat actor');
    expect(cats.body.result.categories).toHaveLength(1);
    expect(cats.body.result.categories[0].schema.map((f: { key: string }) => f.key)).toContain(
      'targetedSectors',
    );

    t.clock.advance(1000);
    const second = seedActors(ctxFor(a));
    expect(second).toEqual({ ...first, created: 0, updated: 0, unchanged: ACTORS.length });
    expect((await findTag(a, 'APT1')).version).toBe(1);

    const count = await a.call('GET', `/events/tags?categoryUuid=${first.categoryUuid}&pageSize=1`);
    expect(count.body.result.pagination.totalCount).toBe(ACTORS.length);
  });

  it('updates a tag that event ingest created, keeping what the seed does not own', async () => {
    const a = await t.account();
    const tag = await a.call('POST', '/events/tags/create', {
      value: 'APT1',
      internalDescription: 'our notes',
      tlp: 'amber',
    });
    const result = seedActors(ctxFor(a), ACTORS.slice(0, 3));
    expect(result).toMatchObject({ created: 2, updated: 1, unchanged: 0 });
    const apt1 = await findTag(a, 'APT1');
    expect(apt1).toMatchObject({
      uuid: tag.body.result.uuid,
      internalDescription: 'our notes',
      tlp: 'amber',
      originCountryISO: 'CN',
      categoryName: THREAT_ACTOR_CATEGORY,
      version: 2,
    });
  });

  it('needs write permission', async () => {
    const a = await t.account();
    expect(() => seedActors(ctxFor(a, 'read'))).toThrow(/Cloudforce One Write/);
  });
});

describe('threatdesk seed actors (CLI)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'threatdesk-seed-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the counts and is idempotent', async () => {
    const env = { ...process.env, THREATDESK_DATA_DIR: dir, THREATDESK_LOG: 'off' };
    const cli = join(import.meta.dirname, '../../bin/threatdesk.mjs');
    const first = await run(process.execPath, [cli, 'seed', 'actors', '--account', 'seedacct'], { env });
    expect(first.stdout).toMatch(new RegExp(`${ACTORS.length} created, 0 updated, 0 unchanged`));
    const second = await run(process.execPath, [cli, 'seed', 'actors', '--account', 'seedacct'], { env });
    expect(second.stdout).toMatch(new RegExp(`0 created, 0 updated, ${ACTORS.length} unchanged`));
    const dbs = new FileDatabases(dir);
    try {
      const n = dbs.account('seedacct').one<{ n: number }>('SELECT count(*) AS n FROM tags')?.n;
      expect(n).toBe(ACTORS.length);
    } finally {
      dbs.closeAll();
    }
    await expect(run(process.execPath, [cli, 'seed', 'actors'], { env })).rejects.toMatchObject({ code: 2 });
  });
});
