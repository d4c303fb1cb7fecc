import { describe, expect, it } from 'vitest';
import { createToken } from '../../src/domain/tokens.ts';
import { makeTestApp, type TestAccount } from '../helpers.ts';

const t = makeTestApp();

async function savedQuery(account: TestAccount, name = 'Red events'): Promise<number> {
  const res = await account.call('POST', '/events/queries/create', {
    name,
    query_json: JSON.stringify({ search: [{ field: 'tlp', op: 'equals', value: 'red' }] }),
    alert_enabled: true,
    alert_rollup_enabled: false,
    rule_enabled: false,
  });
  expect(res.status).toBe(200);
  return res.body.result.id;
}

describe('query alerts (E32–E37)', () => {
  it('creates, gets, lists, updates (POST and PATCH) and deletes an alert', async () => {
    const account = await t.account();
    const queryId = await savedQuery(account);
    const created = await account.call('POST', '/events/queries/alerts/create', {
      query_id: queryId,
      notification_type: 'webhook',
      frequency: 'hourly',
      webhook_url: 'https://hooks.example/threatdesk',
      webhook_secret: 's3cret',
    });
    expect(created.status).toBe(200);
    const alert = created.body.result;
    expect(alert).toEqual({
      id: expect.any(Number),
      account_id: Number.parseInt(account.id.slice(0, 12), 16),
      query_id: queryId,
      notification_type: 'webhook',
      frequency: 'hourly',
      enabled: true,
      webhook_url: 'https://hooks.example/threatdesk',
      has_webhook_secret: true,
      recipient: null,
      user_email: 'analyst@example.com',
      last_sent_at: null,
      created_at: '2026-01-15T12:00:00.000Z',
      updated_at: '2026-01-15T12:00:00.000Z',
    });
    // The secret is never answered.
    expect(JSON.stringify(created.body)).not.toContain('s3cret');

    const got = await account.call('GET', `/events/queries/alerts/${alert.id}`);
    expect(got.body.result).toEqual(alert);
    expect((await account.call('GET', '/events/queries/alerts')).body.result).toEqual([alert]);

    const posted = await account.call('POST', `/events/queries/alerts/${alert.id}`, { enabled: false });
    expect(posted.status).toBe(200);
    expect(posted.body.result).toMatchObject({
      enabled: false,
      frequency: 'hourly',
      has_webhook_secret: true,
    });

    // Switching to email: the recipient defaults to the token's email; webhook fields go.
    const patched = await account.call('PATCH', `/events/queries/alerts/${alert.id}`, {
      notification_type: 'email',
      frequency: 'daily',
    });
    expect(patched.status).toBe(200);
    expect(patched.body.result).toMatchObject({
      notification_type: 'email',
      frequency: 'daily',
      recipient: 'analyst@example.com',
      webhook_url: null,
      has_webhook_secret: false,
    });
    const recipient = await account.call('PATCH', `/events/queries/alerts/${alert.id}`, {
      recipient: 'soc@example.org',
    });
    expect(recipient.body.result.recipient).toBe('soc@example.org');

    const log = await account.call('GET', `/events/queries/alerts/${alert.id}/deliveries`);
    expect(log.status).toBe(200);
    expect(log.body.result).toEqual([]);

    const deleted = await account.call('DELETE', `/events/queries/alerts/${alert.id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ success: true, result: {} });
    expect((await account.call('GET', `/events/queries/alerts/${alert.id}`)).status).toBe(404);
    expect((await account.call('GET', '/events/queries/alerts')).body.result).toEqual([]);
  });

  it('defaults to an immediate, enabled alert; deleting the saved query deletes its alerts', async () => {
    const account = await t.account();
    const queryId = await savedQuery(account);
    const res = await account.call('POST', '/events/queries/alerts/create', {
      query_id: queryId,
      notification_type: 'email',
    });
    expect(res.body.result).toMatchObject({
      frequency: 'immediate',
      enabled: true,
      recipient: 'analyst@example.com',
    });
    expect((await account.call('DELETE', `/events/queries/${queryId}`)).status).toBe(200);
    expect((await account.call('GET', `/events/queries/alerts/${res.body.result.id}`)).status).toBe(404);
  });

  it('answers 400 for a bad frequency or type, a webhook without a usable url, an unknown query, a bad recipient', async () => {
    const account = await t.account();
    const queryId = await savedQuery(account);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ query_id: queryId, notification_type: 'email', frequency: 'monthly' }, /^frequency: /],
      [{ query_id: queryId, notification_type: 'pager' }, /^notification_type: /],
      [{ query_id: queryId, notification_type: 'webhook' }, /^webhook_url: required/],
      [
        { query_id: queryId, notification_type: 'webhook', webhook_url: 'ftp://x.example/' },
        /^webhook_url: must be an http or https URL/,
      ],
      [
        { query_id: queryId, notification_type: 'webhook', webhook_url: 'not a url' },
        /^webhook_url: not a URL/,
      ],
      [{ query_id: 999_999, notification_type: 'email' }, /^query_id: no saved query 999999/],
      [
        { query_id: queryId, notification_type: 'email', recipient: 'nobody' },
        /^recipient: not an email address/,
      ],
      [{ notification_type: 'email' }, /^query_id: /],
    ];
    for (const [body, message] of cases) {
      const res = await account.call('POST', '/events/queries/alerts/create', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.errors[0]?.code).toBe(1001);
      expect(res.body.errors[0]?.message).toMatch(message);
    }
    expect((await account.call('GET', '/events/queries/alerts')).body.result).toEqual([]);

    // An email alert needs a recipient when the token carries no email.
    const { token } = await createToken(
      { stores: t.stores, clock: t.clock, ids: t.ids },
      { accountId: account.id, permission: 'write' },
    );
    const bare = await account.call(
      'POST',
      '/events/queries/alerts/create',
      { query_id: queryId, notification_type: 'email' },
      { token },
    );
    expect(bare.status).toBe(400);
    expect(bare.body.errors[0]?.message).toBe(
      'recipient: required for email alerts when the API token has no email',
    );
    const named = await account.call(
      'POST',
      '/events/queries/alerts/create',
      { query_id: queryId, notification_type: 'email', recipient: 'soc@example.org' },
      { token },
    );
    expect(named.status).toBe(200);
    expect(named.body.result).toMatchObject({ recipient: 'soc@example.org', user_email: '' });

    // Edits are checked on the merged result.
    const ok = await account.call('POST', '/events/queries/alerts/create', {
      query_id: queryId,
      notification_type: 'email',
    });
    const toWebhook = await account.call('PATCH', `/events/queries/alerts/${ok.body.result.id}`, {
      notification_type: 'webhook',
    });
    expect(toWebhook.status).toBe(400);
    expect(toWebhook.body.errors[0]?.message).toMatch(/^webhook_url: required/);
  });

  it('answers 404 for an unknown alert on every by-id route', async () => {
    const account = await t.account();
    for (const [method, path, body] of [
      ['GET', '/events/queries/alerts/4242', undefined],
      ['POST', '/events/queries/alerts/4242', { enabled: false }],
      ['PATCH', '/events/queries/alerts/4242', { enabled: false }],
      ['DELETE', '/events/queries/alerts/4242', undefined],
      ['GET', '/events/queries/alerts/4242/deliveries', undefined],
    ] as const) {
      const res = await account.call(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.errors[0]).toEqual({ code: 1003, message: 'query alert not found: 4242' });
    }
  });

  it('checks the token: none 401, read token 403 on writes, another account 403 and never sees them', async () => {
    const account = await t.account();
    const queryId = await savedQuery(account);
    const alert = (
      await account.call('POST', '/events/queries/alerts/create', {
        query_id: queryId,
        notification_type: 'email',
      })
    ).body.result;

    expect((await account.call('GET', '/events/queries/alerts', undefined, { token: null })).status).toBe(
      401,
    );
    const read = { token: account.readToken };
    expect((await account.call('GET', '/events/queries/alerts', undefined, read)).status).toBe(200);
    expect((await account.call('GET', `/events/queries/alerts/${alert.id}`, undefined, read)).status).toBe(
      200,
    );
    expect(
      (await account.call('GET', `/events/queries/alerts/${alert.id}/deliveries`, undefined, read)).status,
    ).toBe(200);
    for (const [method, path, body] of [
      ['POST', '/events/queries/alerts/create', { query_id: queryId, notification_type: 'email' }],
      ['POST', `/events/queries/alerts/${alert.id}`, { enabled: false }],
      ['PATCH', `/events/queries/alerts/${alert.id}`, { enabled: false }],
      ['DELETE', `/events/queries/alerts/${alert.id}`, undefined],
    ] as const) {
      const res = await account.call(method, path, body, read);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.errors[0]?.code).toBe(10001);
    }

    const other = await t.account();
    expect(
      (
        await account.call('GET', `/events/queries/alerts/${alert.id}`, undefined, {
          token: other.writeToken,
        })
      ).status,
    ).toBe(403);
    expect((await other.call('GET', `/events/queries/alerts/${alert.id}`)).status).toBe(404);
    expect((await other.call('GET', '/events/queries/alerts')).body.result).toEqual([]);
    // Another account's query id is unknown here.
    const foreign = await other.call('POST', '/events/queries/alerts/create', {
      query_id: queryId,
      notification_type: 'email',
    });
    expect(foreign.status).toBe(400);
  });
});
