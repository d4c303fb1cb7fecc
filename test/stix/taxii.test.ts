import { beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, makeTestApp, type TestAccount } from '../helpers.ts';
import { loadStixSchemas, type StixValidator } from './schemas.ts';

interface Obj {
  type: string;
  id: string;
  [k: string]: unknown;
}
interface Envelope {
  more: boolean;
  next?: string;
  objects?: Obj[];
}

const TAXII = 'application/taxii+json;version=2.1';
// Small shards, so collections span several of them.
const t = makeTestApp({ shardMaxEvents: 7 });
let account: TestAccount;
let other: TestAccount;
let stix: StixValidator;
let datasetA: string;
let datasetB: string;
let cutoff: string;
const FIRST = 12;
const SECOND = 9;

async function taxii(path: string, init: { token?: string | null; accept?: string; method?: string } = {}) {
  const headers: Record<string, string> = { accept: init.accept ?? TAXII };
  const token = init.token === undefined ? account.readToken : init.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await t.app.request(path, { method: init.method ?? 'GET', headers });
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary TAXII shapes
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as any };
}

const root = () => `/taxii2/${account.id}`;

async function createIn(datasetId: string, count: number, offset: number) {
  const res = await account.call('POST', '/events/create/bulk', {
    datasetId,
    data: Array.from({ length: count }, (_, i) =>
      makeEvent({
        attacker: i % 2 ? 'Flying Yeti' : 'Sandworm',
        indicator: `host${offset + i}.evil.example`,
        tlp: i % 3 ? 'amber' : 'green',
      }),
    ),
  });
  expect(res.body.result.errorCount).toBe(0);
}

beforeAll(async () => {
  stix = loadStixSchemas();
  account = await t.account();
  other = await t.account();
  const create = async (name: string) =>
    (await account.call('POST', '/events/dataset/create', { name, isPublic: false })).body.result
      .uuid as string;
  datasetA = await create('TAXII A');
  datasetB = await create('TAXII B');
  for (let i = 0; i < FIRST; i++) {
    await createIn(datasetA, 1, i);
    t.clock.advance(1000);
  }
  cutoff = new Date(t.clock.now() - 500).toISOString();
  for (let i = 0; i < SECOND; i++) {
    await createIn(datasetA, 1, 100 + i);
    t.clock.advance(1000);
  }
  await createIn(datasetB, 3, 200);
});

/** Follows next from a first objects URL; answers every object and the pages. */
async function walk(url: string): Promise<{ objects: Obj[]; pages: number }> {
  const objects: Obj[] = [];
  let pages = 0;
  let next: string | undefined;
  do {
    const sep = url.includes('?') ? '&' : '?';
    const res = await taxii(next ? `${url}${sep}next=${encodeURIComponent(next)}` : url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(TAXII);
    const body = res.body as Envelope;
    expect(body.more).toBe(body.next !== undefined);
    objects.push(...(body.objects ?? []));
    next = body.next;
    pages++;
    expect(pages).toBeLessThan(500);
  } while (next);
  return { objects, pages };
}

describe('TAXII 2.1 server', () => {
  it('answers discovery and the API root for the token', async () => {
    const d = await taxii('/taxii2/');
    expect(d.status).toBe(200);
    expect(d.headers.get('content-type')).toBe(TAXII);
    expect(d.body.api_roots).toEqual([`http://localhost/taxii2/${account.id}/`]);
    expect(d.body.default).toBe(`http://localhost/taxii2/${account.id}/`);
    const r = await taxii(`${root()}/`);
    expect(r.status).toBe(200);
    expect(r.body.versions).toEqual([TAXII]);
    expect(r.body.max_content_length).toBeGreaterThan(0);
  });

  it('lists one read-only collection per dataset', async () => {
    const res = await taxii(`${root()}/collections/`);
    expect(res.status).toBe(200);
    const byId = new Map<string, Record<string, unknown>>(
      res.body.collections.map((c: Record<string, unknown>) => [c.id, c]),
    );
    expect(byId.get(datasetA)).toMatchObject({ title: 'TAXII A', can_read: true, can_write: false });
    expect(byId.get(datasetB)).toMatchObject({ title: 'TAXII B', can_read: true, can_write: false });
    const one = await taxii(`${root()}/collections/${datasetA}`);
    expect(one.body).toEqual(byId.get(datasetA));
  });

  it('pages a collection by next without losing or repeating objects', async () => {
    const all = await taxii(`${root()}/collections/${datasetA}/objects/?limit=10000`);
    expect(all.body.more).toBe(false);
    const everything = all.body.objects as Obj[];
    expect(everything.filter((o) => o.type === 'report')).toHaveLength(FIRST + SECOND);
    for (const o of everything) expect(stix.object(o)).toEqual([]);
    expect(new Set(everything.map((o) => o.id)).size).toBe(everything.length);

    const { objects, pages } = await walk(`${root()}/collections/${datasetA}/objects/?limit=7`);
    expect(pages).toBeGreaterThan(5);
    const own = (list: Obj[]) => list.filter((o) => ['report', 'indicator', 'relationship'].includes(o.type));
    // Objects of events come once each, in the same order; shared context may repeat per page.
    expect(own(objects).map((o) => o.id)).toEqual(own(everything).map((o) => o.id));
    expect(new Set(objects.map((o) => o.id))).toEqual(new Set(everything.map((o) => o.id)));
  });

  it('filters by added_after, match[type] and match[id], with the date headers', async () => {
    const res = await taxii(
      `${root()}/collections/${datasetA}/objects/?added_after=${encodeURIComponent(cutoff)}&match[type]=report`,
    );
    expect(res.body.objects).toHaveLength(SECOND);
    expect(Date.parse(res.headers.get('x-taxii-date-added-first') ?? '')).toBeGreaterThan(Date.parse(cutoff));
    expect(res.headers.get('x-taxii-date-added-last')).toBeTruthy();
    const indicators = await taxii(
      `${root()}/collections/${datasetA}/objects/?match[type]=indicator,threat-actor`,
    );
    const types = new Set((indicators.body.objects as Obj[]).map((o) => o.type));
    expect([...types].sort()).toEqual(['indicator', 'threat-actor']);
    const report = (res.body.objects as Obj[])[0] as Obj;
    const byId = await taxii(`${root()}/collections/${datasetA}/objects/?match[id]=${report.id}`);
    expect(byId.body.objects).toEqual([report]);
    const bad = await taxii(`${root()}/collections/${datasetA}/objects/?added_after=yesterday`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ title: 'Invalid added_after', http_status: '400' });
  });

  it('answers the manifest with the same paging', async () => {
    const res = await taxii(`${root()}/collections/${datasetB}/manifest/?limit=4`);
    expect(res.status).toBe(200);
    expect(res.body.more).toBe(true);
    for (const m of res.body.objects) {
      expect(Object.keys(m).sort()).toEqual(['date_added', 'id', 'media_type', 'version']);
      expect(m.media_type).toBe('application/stix+json;version=2.1');
    }
    const { objects } = await walk(`${root()}/collections/${datasetB}/manifest/?limit=4`);
    const all = await taxii(`${root()}/collections/${datasetB}/objects/?limit=10000`);
    expect(new Set(objects.map((o) => o.id))).toEqual(new Set((all.body.objects as Obj[]).map((o) => o.id)));
  });

  it('gets one object by id, and its versions', async () => {
    const all = await taxii(`${root()}/collections/${datasetB}/objects/?match[type]=indicator`);
    const indicator = (all.body.objects as Obj[])[0] as Obj;
    const res = await taxii(`${root()}/collections/${datasetB}/objects/${indicator.id}/`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ more: false, objects: [indicator] });
    const versions = await taxii(`${root()}/collections/${datasetB}/objects/${indicator.id}/versions/`);
    expect(versions.body).toEqual({ more: false, versions: [indicator.modified] });
    const missing = await taxii(
      `${root()}/collections/${datasetB}/objects/indicator--00000000-0000-4000-8000-000000000000/`,
    );
    expect(missing.status).toBe(404);
    expect(missing.body.http_status).toBe('404');
  });

  it('answers TAXII errors: 401, 403, 404, 406, read-only collections', async () => {
    const none = await taxii(`${root()}/collections/`, { token: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toBe(TAXII);
    expect(none.body).toMatchObject({ title: 'Unauthorized', http_status: '401' });
    expect(typeof none.body.description).toBe('string');
    expect((await taxii(`${root()}/collections/`, { token: 'td_not_a_token_at_all' })).status).toBe(401);
    const foreign = await taxii(`${root()}/collections/`, { token: other.readToken });
    expect(foreign.status).toBe(403);
    expect(foreign.body.http_status).toBe('403');
    expect((await taxii(`${root()}/collections/${crypto.randomUUID()}/objects/`)).status).toBe(404);
    expect((await taxii(`${root()}/nothing/here/`)).status).toBe(404);
    expect((await taxii(`${root()}/collections/`, { accept: 'application/xml' })).status).toBe(406);
    expect(
      (await taxii(`${root()}/collections/`, { accept: 'application/taxii+json;version=2.0' })).status,
    ).toBe(406);
    expect((await taxii(`${root()}/collections/`, { accept: 'application/json' })).status).toBe(200);
    const post = await taxii(`${root()}/collections/${datasetA}/objects/`, {
      method: 'POST',
      token: account.writeToken,
    });
    expect(post.status).toBe(403);
    const badNext = await taxii(`${root()}/collections/${datasetA}/objects/?next=garbage`);
    expect(badNext.status).toBe(400);
    // A next of one collection is refused by another.
    const page = await taxii(`${root()}/collections/${datasetA}/objects/?limit=2`);
    const cross = await taxii(`${root()}/collections/${datasetB}/objects/?next=${page.body.next}`);
    expect(cross.status).toBe(400);
  });
});
