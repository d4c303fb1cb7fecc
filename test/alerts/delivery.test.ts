import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/domain/context.ts';
import { AlertDelivery, type DeliveryOptions, fetchWebhook } from '../../src/domain/queries/delivery.ts';
import { sendMail } from '../../src/runtime/node/smtp.ts';
import { makeEvent, makeTestApp, type TestAccount, type TestApp } from '../helpers.ts';
import { expectedSignature, MailReceiver, WebhookReceiver } from './receivers.ts';

const SECRET = 'whsec_test_1234';

let t: TestApp;
let account: TestAccount;
let hooks: WebhookReceiver;
let smtp: MailReceiver;

beforeEach(async () => {
  t = makeTestApp();
  account = await t.account();
  hooks = new WebhookReceiver();
  smtp = new MailReceiver();
  await Promise.all([hooks.start(), smtp.start()]);
});
afterEach(async () => {
  await Promise.all([hooks.stop(), smtp.stop()]);
});

/** Delivery on the test app's stores and manual clock, sending for real to the local receivers. */
function delivery(options: Partial<DeliveryOptions> = {}): {
  run: () => ReturnType<AlertDelivery['runDueAlerts']>;
} {
  const d = new AlertDelivery({
    stores: t.stores,
    clock: t.clock,
    ids: t.ids,
    config: defaultConfig,
    transport: {
      webhook: fetchWebhook(5_000),
      email: (message, signal) =>
        sendMail({ url: smtp.url, from: 'alerts@threatdesk.test', timeoutMs: 5_000 }, message, signal),
    },
    options: { settleMs: 0, retryBaseMs: 1_000, ...options },
  });
  return { run: () => d.runDueAlerts({ accountIds: [account.id] }) };
}

async function savedQuery(rollup: boolean, tlp = 'red'): Promise<number> {
  const res = await account.call('POST', '/events/queries/create', {
    name: `tlp ${tlp} ${rollup ? 'rollup' : 'each'}`,
    query_json: JSON.stringify({ search: [{ field: 'tlp', op: 'equals', value: tlp }] }),
    alert_enabled: true,
    alert_rollup_enabled: rollup,
    rule_enabled: false,
  });
  expect(res.status).toBe(200);
  return res.body.result.id;
}

async function webhookAlert(queryId: number, extra: Record<string, unknown> = {}): Promise<number> {
  const res = await account.call('POST', '/events/queries/alerts/create', {
    query_id: queryId,
    notification_type: 'webhook',
    webhook_url: hooks.url,
    webhook_secret: SECRET,
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.result.id;
}

/** Creates events (one per clock millisecond); answers their uuids in creation order. */
async function createEvents(count: number, overrides: Record<string, unknown> = {}): Promise<string[]> {
  const uuids: string[] = [];
  for (let i = 0; i < count; i++) {
    t.clock.advance(1);
    const res = await account.call('POST', '/events/create', makeEvent({ tlp: 'red', ...overrides }));
    expect(res.status).toBe(200);
    uuids.push(res.body.result.uuid);
  }
  return uuids;
}

async function deliveries(alertId: number) {
  const res = await account.call('GET', `/events/queries/alerts/${alertId}/deliveries`);
  expect(res.status).toBe(200);
  return res.body.result as {
    status: string;
    attempts: number;
    event_count: number;
    event_uuids: string[];
    idempotency_key: string;
    error: string | null;
  }[];
}

describe('alert delivery by webhook', () => {
  it('sends one signed message per matching event created after the alert, with a stable idempotency key', async () => {
    await createEvents(1); // before the alert: not delivered
    const queryId = await savedQuery(false);
    t.clock.advance(1);
    const alertId = await webhookAlert(queryId);
    const red = await createEvents(2);
    await createEvents(1, { tlp: 'green' }); // does not match
    const { run } = delivery();

    expect(await run()).toEqual({ queued: 2, delivered: 2, failedAttempts: 0 });
    expect(hooks.hits).toHaveLength(2);
    expect(hooks.hits.map((h) => h.body.events.map((e) => e.uuid))).toEqual([[red[0]], [red[1]]]);
    for (const hit of hooks.hits) {
      expect(hit.body).toMatchObject({ alert_id: alertId, query_id: queryId, query_name: 'tlp red each' });
      expect(hit.body.events[0]).toMatchObject({ tlp: 'red' });
      expect(hit.contentType).toBe('application/json');
      expect(hit.signature).toBe(expectedSignature(SECRET, hit.raw));
      expect(hit.signature).not.toBe(expectedSignature('another secret', hit.raw));
    }
    const log = await deliveries(alertId);
    expect(log.map((d) => [d.status, d.attempts, d.event_count])).toEqual([
      ['delivered', 1, 1],
      ['delivered', 1, 1],
    ]);
    // The delivery log names the keys the receiver saw (newest first).
    expect(log.map((d) => d.idempotency_key).reverse()).toEqual(hooks.hits.map((h) => h.key));
    expect(new Set(hooks.hits.map((h) => h.key)).size).toBe(2);

    const alert = (await account.call('GET', `/events/queries/alerts/${alertId}`)).body.result;
    expect(alert.last_sent_at).toBe(new Date(t.clock.now()).toISOString());

    // A second run finds nothing new.
    expect(await run()).toEqual({ queued: 0, delivered: 0, failedAttempts: 0 });
    expect(hooks.hits).toHaveLength(2);
  });

  it('rolls up every new event of a run into one message; later runs send only newer events', async () => {
    const alertId = await webhookAlert(await savedQuery(true));
    const first = await createEvents(3);
    const { run } = delivery();
    await run();
    expect(hooks.hits).toHaveLength(1);
    expect(hooks.hits[0]?.body.events.map((e) => e.uuid)).toEqual(first);

    await run();
    expect(hooks.hits).toHaveLength(1);

    const second = await createEvents(2);
    await run();
    expect(hooks.hits).toHaveLength(2);
    expect(hooks.hits[1]?.body.events.map((e) => e.uuid)).toEqual(second);
    expect(hooks.acceptedEventUuids()).toEqual([...first, ...second]);
    expect(hooks.duplicates).toEqual([]);
    expect((await deliveries(alertId)).map((d) => d.event_count)).toEqual([2, 3]);
  });

  it('pages through many events, splitting rollups, and delivers each exactly once over several runs', async () => {
    await webhookAlert(await savedQuery(true));
    const uuids = await createEvents(7);
    // Several events in the same millisecond: the mark's uuid part keeps them apart.
    uuids.push(...(await createEvents(1)));
    for (let i = 0; i < 3; i++) {
      const res = await account.call('POST', '/events/create', makeEvent({ tlp: 'red' }));
      uuids.push(res.body.result.uuid);
    }
    const { run } = delivery({ maxEventsPerRun: 3, maxEventsPerMessage: 2 });
    for (let i = 0; i < 6; i++) await run();
    expect(hooks.acceptedEventUuids()).toEqual(uuids);
    expect(hooks.hits.every((h) => h.body.events.length <= 2)).toBe(true);
    expect(hooks.duplicates).toEqual([]);
  });

  it('retries a failing receiver with exponential backoff and the same key; it gets the message once', async () => {
    const alertId = await webhookAlert(await savedQuery(false));
    const [uuid] = await createEvents(1);
    hooks.answer = (n) => (n < 2 ? 503 : 200);
    const { run } = delivery({ retryBaseMs: 1_000 });

    expect(await run()).toMatchObject({ queued: 1, delivered: 0, failedAttempts: 1 });
    expect(hooks.hits).toHaveLength(1);
    // Not due yet: the first retry waits 1 s, the second 2 s.
    await run();
    expect(hooks.hits).toHaveLength(1);
    t.clock.advance(1_000);
    expect(await run()).toMatchObject({ delivered: 0, failedAttempts: 1 });
    expect(hooks.hits).toHaveLength(2);
    t.clock.advance(1_999);
    await run();
    expect(hooks.hits).toHaveLength(2);
    t.clock.advance(1);
    expect(await run()).toMatchObject({ queued: 0, delivered: 1, failedAttempts: 0 });
    expect(hooks.hits).toHaveLength(3);

    expect(new Set(hooks.hits.map((h) => h.key)).size).toBe(1);
    expect(new Set(hooks.hits.map((h) => h.raw)).size).toBe(1);
    expect(hooks.accepted.size).toBe(1);
    expect(hooks.acceptedEventUuids()).toEqual([uuid]);
    const [log] = await deliveries(alertId);
    expect(log).toMatchObject({ status: 'delivered', attempts: 3, error: null });

    await run();
    expect(hooks.hits).toHaveLength(3);
  });

  it('holds later messages back while one is retried, and marks a message failed after the last attempt', async () => {
    const alertId = await webhookAlert(await savedQuery(false));
    await createEvents(2);
    hooks.answer = () => 500;
    const { run } = delivery({ maxAttempts: 2, retryBaseMs: 10 });
    await run();
    expect(hooks.hits).toHaveLength(1);
    t.clock.advance(10);
    await run();
    // The first message gave up after 2 attempts; the second then got its first attempt.
    expect(hooks.hits.map((h) => h.body.events[0]?.uuid)).toHaveLength(3);
    const log = await deliveries(alertId);
    expect(log.map((d) => [d.status, d.attempts])).toEqual([
      ['pending', 1],
      ['failed', 2],
    ]);
    expect(log[1]?.error).toBe('webhook answered HTTP 500');
  });

  it('resends a message cut off by a stop with the same key, so the receiver can drop the duplicate', async () => {
    await webhookAlert(await savedQuery(false));
    const uuids = await createEvents(3);
    hooks.answer = (n) => (n === 1 ? 'hang' : 200);
    const d = new AlertDelivery({
      stores: t.stores,
      clock: t.clock,
      ids: t.ids,
      config: defaultConfig,
      transport: { webhook: fetchWebhook(30_000), email: async () => {} },
      options: { settleMs: 0 },
    });
    const stop = new AbortController();
    const running = d.runDueAlerts({ accountIds: [account.id], signal: stop.signal });
    await hooks.waitForHits(2);
    stop.abort();
    expect(await running).toMatchObject({ queued: 3, delivered: 1, failedAttempts: 0 });

    hooks.answer = () => 200;
    expect(await d.runDueAlerts({ accountIds: [account.id] })).toMatchObject({ queued: 0, delivered: 2 });
    // The hung message arrived twice with one key; accepted once; every event exactly once.
    expect(hooks.hits).toHaveLength(4);
    expect(hooks.hits[1]?.key).toBe(hooks.hits[2]?.key);
    expect(hooks.acceptedEventUuids()).toEqual(uuids);
  });

  it('runs hourly alerts once an hour, and sends nothing while the alert or its query is disabled', async () => {
    const queryId = await savedQuery(true);
    const alertId = await webhookAlert(queryId, { frequency: 'hourly' });
    const first = await createEvents(2);
    const { run } = delivery();
    await run();
    expect(hooks.hits).toHaveLength(0);
    t.clock.advance(3_600_000);
    await run();
    expect(hooks.hits.map((h) => h.body.events.length)).toEqual([2]);

    await account.call('PATCH', `/events/queries/${queryId}`, { alert_enabled: false });
    const second = await createEvents(1);
    t.clock.advance(3_600_000);
    await run();
    expect(hooks.hits).toHaveLength(1);

    await account.call('PATCH', `/events/queries/${queryId}`, { alert_enabled: true });
    await account.call('PATCH', `/events/queries/alerts/${alertId}`, { enabled: false });
    t.clock.advance(3_600_000);
    await run();
    expect(hooks.hits).toHaveLength(1);

    // Re-enabled: the events created meanwhile are still delivered, once.
    await account.call('PATCH', `/events/queries/alerts/${alertId}`, { enabled: true });
    await run();
    expect(hooks.acceptedEventUuids()).toEqual([...first, ...second]);
  });
  it('reports a query that cannot run (its dataset was deleted) once, and tries again a minute later', async () => {
    const ds = (await account.call('POST', '/events/dataset/create', { name: 'Gone soon', isPublic: false }))
      .body.result.uuid;
    const q = await account.call('POST', '/events/queries/create', {
      name: 'in a dataset',
      query_json: JSON.stringify({ datasetId: [ds] }),
      alert_enabled: true,
      alert_rollup_enabled: false,
      rule_enabled: false,
    });
    await webhookAlert(q.body.result.id);
    expect((await account.call('DELETE', `/events/dataset/${ds}`)).status).toBe(200);
    const logged: Record<string, unknown>[] = [];
    const d = new AlertDelivery({
      stores: t.stores,
      clock: t.clock,
      ids: t.ids,
      config: defaultConfig,
      transport: { webhook: fetchWebhook(5_000), email: async () => {} },
      options: { settleMs: 0 },
      log: (entry) => logged.push(entry),
    });
    await d.runDueAlerts({ accountIds: [account.id] });
    await d.runDueAlerts({ accountIds: [account.id] });
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ msg: 'alert run failed', accountId: account.id });
    t.clock.advance(60_000);
    await d.runDueAlerts({ accountIds: [account.id] });
    expect(logged).toHaveLength(2);
    expect(hooks.hits).toHaveLength(0);
  });
});

describe('alert delivery by email', () => {
  it('sends one email per event through SMTP to the recipient, keyed by Message-ID', async () => {
    const res = await account.call('POST', '/events/queries/alerts/create', {
      query_id: await savedQuery(false),
      notification_type: 'email',
      recipient: 'soc@example.org',
    });
    const alertId = res.body.result.id;
    const uuids = await createEvents(2);
    expect(await delivery().run()).toMatchObject({ queued: 2, delivered: 2 });

    expect(smtp.mails).toHaveLength(2);
    const keys = (await deliveries(alertId)).map((d) => d.idempotency_key).reverse();
    smtp.mails.forEach((mail, i) => {
      expect(mail.from).toBe('alerts@threatdesk.test');
      expect(mail.to).toEqual(['soc@example.org']);
      expect(mail.headers.get('subject')).toBe('threatdesk alert: tlp red each (1 new event)');
      expect(mail.headers.get('message-id')).toBe(`<${keys[i]}@threatdesk>`);
      expect(mail.headers.get('x-threatdesk-idempotency-key')).toBe(keys[i]);
      expect(mail.text).toContain(uuids[i]);
      const json = JSON.parse(mail.text.slice(mail.text.indexOf('The events as JSON:') + 20));
      expect(json.map((e: { uuid: string }) => e.uuid)).toEqual([uuids[i]]);
    });
  });

  it("rolls up into one email to the token's email by default", async () => {
    await account.call('POST', '/events/queries/alerts/create', {
      query_id: await savedQuery(true),
      notification_type: 'email',
    });
    const uuids = await createEvents(3);
    await delivery().run();
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]?.to).toEqual(['analyst@example.com']);
    expect(smtp.mails[0]?.headers.get('subject')).toBe('threatdesk alert: tlp red rollup (3 new events)');
    for (const uuid of uuids) expect(smtp.mails[0]?.text).toContain(uuid);
  });

  it('records a failed attempt when the SMTP server is unreachable, and delivers once it is back', async () => {
    const alertId = (
      await account.call('POST', '/events/queries/alerts/create', {
        query_id: await savedQuery(false),
        notification_type: 'email',
      })
    ).body.result.id;
    await createEvents(1);
    const url = smtp.url;
    await smtp.stop();
    const { run } = delivery();
    expect(await run()).toMatchObject({ failedAttempts: 1 });
    const [log] = await deliveries(alertId);
    expect(log).toMatchObject({ status: 'pending', attempts: 1 });
    expect(log?.error).toMatch(/^SMTP greeting: /);

    smtp = new MailReceiver();
    await smtp.start();
    // The new server has a new port: point a fresh delivery at it (settings are read at start-up).
    expect(smtp.url).not.toBe(url);
    t.clock.advance(1_000);
    expect(await delivery().run()).toMatchObject({ delivered: 1 });
    expect(smtp.mails).toHaveLength(1);
  });
});
