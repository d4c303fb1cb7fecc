import type Cloudflare from 'cloudflare';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectedSignature, MailReceiver, WebhookReceiver } from '../alerts/receivers.ts';
import { type Envelope, envelope, result, TestServer } from './server.ts';

interface SavedQuery {
  id: number;
  account_id: number;
  name: string;
  query_json: string;
  alert_enabled: boolean;
  alert_rollup_enabled: boolean;
  rule_enabled: boolean;
  user_email: string;
}

let n = 0;
function makeEvent(overrides: Record<string, unknown> = {}) {
  n++;
  return {
    category: 'Domain Resolution',
    date: new Date(Date.UTC(2025, 5, 1) + n * 60_000).toISOString(),
    event: `e2e alert event ${n}`,
    raw: { data: { n } },
    tlp: 'red',
    attacker: 'Flying Yeti',
    attackerCountry: 'RU',
    indicator: `alert${n}.example`,
    indicatorType: 'domain',
    tags: ['malware'],
    targetCountry: 'US',
    targetIndustry: 'Agriculture',
    ...overrides,
  };
}

/** Plain fetch against the server, for the alert routes the SDK has no methods for. */
async function call<T>(
  server: TestServer,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Envelope<T> }> {
  const res = await fetch(`${server.baseURL}/accounts/${server.account}/cloudforce-one${path}`, {
    method,
    headers: {
      authorization: `Bearer ${server.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Envelope<T> };
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('e2e: saved queries through the SDK (E26–E31) and alerts by fetch (E32–E37)', () => {
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

  it('creates, gets, lists, edits and deletes a saved query with the SDK', async () => {
    const queries = client.cloudforceOne.threatEvents.queries;
    const query_json = JSON.stringify({
      search: [{ field: 'tlp', op: 'equals', value: 'red' }],
      order: 'asc',
    });
    const created = await envelope<SavedQuery>(
      queries.create({
        account_id,
        name: 'e2e red',
        query_json,
        alert_enabled: true,
        alert_rollup_enabled: false,
        rule_enabled: false,
      }),
    );
    expect(created.success).toBe(true);
    expect(created.result).toMatchObject({
      name: 'e2e red',
      query_json,
      alert_enabled: true,
      user_email: '',
    });
    const id = created.result.id;
    expect(Number.isInteger(id)).toBe(true);
    expect(Number.isInteger(created.result.account_id)).toBe(true);

    expect(await result<SavedQuery>(queries.get(id, { account_id }))).toEqual(created.result);
    const listed = await result<SavedQuery[]>(queries.list({ account_id }));
    expect(listed.map((q) => q.id)).toContain(id);

    const edited = await result<SavedQuery>(queries.edit(id, { account_id, alert_rollup_enabled: true }));
    expect(edited).toMatchObject({ id, alert_rollup_enabled: true, name: 'e2e red' });

    await expect(
      queries.create({
        account_id,
        name: 'e2e red',
        query_json: '{}',
        alert_enabled: false,
        alert_rollup_enabled: false,
        rule_enabled: false,
      }),
    ).rejects.toMatchObject({ status: 409 });
    await expect(
      queries.create({
        account_id,
        name: 'e2e bad',
        query_json: '{"search":[{"field":"colour","op":"equals","value":"x"}]}',
        alert_enabled: false,
        alert_rollup_enabled: false,
        rule_enabled: false,
      }),
    ).rejects.toMatchObject({ status: 400 });

    // E31 is typed void by the SDK; it resolves, and the query is gone.
    await queries.delete(id, { account_id });
    await expect(queries.get(id, { account_id })).rejects.toMatchObject({ status: 404 });
    await expect(queries.delete(id, { account_id })).rejects.toMatchObject({ status: 404 });
  });

  it('creates, reads, updates and deletes an alert with plain fetch', async () => {
    const queryId = (
      await result<SavedQuery>(
        client.cloudforceOne.threatEvents.queries.create({
          account_id,
          name: 'e2e alerts crud',
          query_json: '{}',
          alert_enabled: false,
          alert_rollup_enabled: false,
          rule_enabled: false,
        }),
      )
    ).id;
    const created = await call<{ id: number; frequency: string }>(
      server,
      'POST',
      '/events/queries/alerts/create',
      {
        query_id: queryId,
        notification_type: 'webhook',
        webhook_url: 'https://hooks.example/x',
        frequency: 'weekly',
      },
    );
    expect(created.status).toBe(200);
    const id = created.body.result.id;
    expect((await call(server, 'GET', `/events/queries/alerts/${id}`)).body.result).toMatchObject({
      id,
      query_id: queryId,
      frequency: 'weekly',
    });
    const list = await call<{ id: number }[]>(server, 'GET', '/events/queries/alerts');
    expect(list.body.result.map((a) => a.id)).toContain(id);
    expect(
      (await call(server, 'POST', `/events/queries/alerts/${id}`, { frequency: 'daily' })).body.result,
    ).toMatchObject({
      frequency: 'daily',
    });
    expect(
      (await call(server, 'PATCH', `/events/queries/alerts/${id}`, { enabled: false })).body.result,
    ).toMatchObject({
      enabled: false,
    });
    expect(
      (await call(server, 'PATCH', `/events/queries/alerts/${id}`, { frequency: 'yearly' })).status,
    ).toBe(400);
    expect((await call(server, 'DELETE', `/events/queries/alerts/${id}`)).status).toBe(200);
    expect((await call(server, 'GET', `/events/queries/alerts/${id}`)).status).toBe(404);
  });
});

describe('e2e: alerts delivered by the running server', () => {
  const hooks = new WebhookReceiver();
  const smtp = new MailReceiver();
  let server: TestServer;

  beforeAll(async () => {
    await Promise.all([hooks.start(), smtp.start()]);
    server = new TestServer({
      env: {
        THREATDESK_ALERT_TICK_MS: '100',
        THREATDESK_ALERT_SETTLE_MS: '0',
        THREATDESK_ALERT_RETRY_MS: '100',
        THREATDESK_ALERT_TIMEOUT_MS: '30000',
        THREATDESK_SMTP_URL: smtp.url,
        THREATDESK_SMTP_FROM: 'alerts@threatdesk.test',
      },
    });
    await server.start();
  });
  afterEach(() => {
    hooks.answer = () => 200;
  });
  afterAll(async () => {
    const errors = await server.disposeTakingErrors();
    await Promise.all([hooks.stop(), smtp.stop()]);
    expect(errors).toBe('');
  });

  async function createQuery(name: string, rollup: boolean, tlp: string): Promise<number> {
    const res = await call<SavedQuery>(server, 'POST', '/events/queries/create', {
      name,
      query_json: JSON.stringify({ search: [{ field: 'tlp', op: 'equals', value: tlp }] }),
      alert_enabled: true,
      alert_rollup_enabled: rollup,
      rule_enabled: false,
    });
    expect(res.status).toBe(200);
    return res.body.result.id;
  }

  async function createEvents(count: number, tlp: string): Promise<string[]> {
    const te = server.client().cloudforceOne.threatEvents;
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      out.push(
        (await result<{ uuid: string }>(te.create({ account_id: server.account, ...makeEvent({ tlp }) })))
          .uuid,
      );
    }
    return out;
  }

  it('delivers every matching event exactly once across a stop and start in the middle of a run', async () => {
    const queryId = await createQuery('restart', false, 'amber+strict');
    const alert = await call<{ id: number }>(server, 'POST', '/events/queries/alerts/create', {
      query_id: queryId,
      notification_type: 'webhook',
      webhook_url: hooks.url,
      webhook_secret: 'restart-secret',
    });
    expect(alert.status).toBe(200);
    const alertId = alert.body.result.id;
    const before = hooks.hits.length;
    // The third message hangs: the receiver never answers while the first server runs.
    hooks.answer = (i) => (i === before + 2 ? 'hang' : 200);
    const uuids = await createEvents(5, 'amber+strict');
    await createEvents(2, 'clear'); // not matching
    await hooks.waitForHits(before + 3);

    const log = await call<{ status: string }[]>(
      server,
      'GET',
      `/events/queries/alerts/${alertId}/deliveries`,
    );
    expect(log.body.result.filter((d) => d.status === 'delivered').length).toBeLessThan(uuids.length);

    expect(await server.stop()).toBe(0);
    hooks.answer = () => 200;
    await server.start();

    const mine = () => hooks.hits.slice(before).filter((h) => h.body.alert_id === alertId);
    const acceptedUuids = () =>
      [...hooks.accepted.values()].filter((h) => h.body.alert_id === alertId).flatMap((h) => h.body.events);
    await until('every event delivered', () => acceptedUuids().length >= uuids.length);
    // Let a few more ticks pass: nothing more may arrive.
    await new Promise((r) => setTimeout(r, 500));

    // The hung message came again with the same key (so the receiver could drop it) ...
    const keys = mine().map((h) => h.key);
    expect(keys.length).toBe(uuids.length + 1);
    expect(new Set(keys).size).toBe(uuids.length);
    // ... and every event is in exactly one message, under one key.
    const byEvent = new Map<string, Set<string>>();
    for (const h of mine()) {
      expect(h.signature).toBe(expectedSignature('restart-secret', h.raw));
      for (const e of h.body.events) byEvent.set(e.uuid, (byEvent.get(e.uuid) ?? new Set()).add(h.key));
    }
    expect([...byEvent.keys()].sort()).toEqual([...uuids].sort());
    expect([...byEvent.values()].every((k) => k.size === 1)).toBe(true);
    expect(
      acceptedUuids()
        .map((e) => e.uuid)
        .sort(),
    ).toEqual([...uuids].sort());
    expect(hooks.duplicates).toEqual([]);

    const final = await call<{ status: string; attempts: number }[]>(
      server,
      'GET',
      `/events/queries/alerts/${alertId}/deliveries`,
    );
    expect(final.body.result.map((d) => d.status)).toEqual(uuids.map(() => 'delivered'));
    const got = await call<{ last_sent_at: string | null }>(
      server,
      'GET',
      `/events/queries/alerts/${alertId}`,
    );
    expect(got.body.result.last_sent_at).not.toBeNull();
  });

  it('retries a receiver that fails twice; it accepts the rollup once', async () => {
    const queryId = await createQuery('retry rollup', true, 'green');
    const alertId = (
      await call<{ id: number }>(server, 'POST', '/events/queries/alerts/create', {
        query_id: queryId,
        notification_type: 'webhook',
        webhook_url: hooks.url,
      })
    ).body.result.id;
    const before = hooks.hits.length;
    hooks.answer = (i) => (i < before + 2 ? 500 : 200);
    const uuids = await createEvents(1, 'green');
    await until('the rollup accepted', () =>
      [...hooks.accepted.values()].some((h) => h.body.alert_id === alertId && h.body.query_id === queryId),
    );
    const mine = hooks.hits.slice(before).filter((h) => h.body.query_id === queryId);
    expect(mine.length).toBeGreaterThanOrEqual(3);
    expect(new Set(mine.map((h) => h.key)).size).toBe(1);
    expect(mine[0]?.signature).toBeUndefined();
    expect(mine.flatMap((h) => h.body.events.map((e) => e.uuid)).every((u) => u === uuids[0])).toBe(true);
  });

  it('sends email alerts through THREATDESK_SMTP_URL', async () => {
    const queryId = await createQuery('email', true, 'white');
    await call(server, 'POST', '/events/queries/alerts/create', {
      query_id: queryId,
      notification_type: 'email',
      recipient: 'soc@example.org',
    });
    const uuids = await createEvents(2, 'white');
    // Ticks are 100 ms apart, so the two events may come in one rollup or in two.
    const mails = () => smtp.mails.filter((m) => uuids.some((u) => m.text.includes(u)));
    await until('the emails', () => uuids.every((u) => mails().some((m) => m.text.includes(u))));
    for (const mail of mails()) {
      expect(mail.to).toEqual(['soc@example.org']);
      expect(mail.from).toBe('alerts@threatdesk.test');
      expect(mail.headers.get('subject')).toMatch(/^threatdesk alert: email \([12] new events?\)$/);
    }
    // Each event in exactly one email.
    for (const u of uuids) expect(mails().filter((m) => m.text.includes(u))).toHaveLength(1);
  });
});
