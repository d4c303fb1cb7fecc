import Cloudflare from 'cloudflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenWithCli, result, TestServer } from './server.ts';

/** What every SDK error is: status, headers, the body and its `errors`. */
type ApiError = InstanceType<typeof Cloudflare.APIError>;

const event = {
  category: 'Domain Resolution',
  date: '2022-04-01T00:00:00Z',
  event: 'An attacker registered the domain domain.com',
  raw: { data: { foo: 'bar' } },
  tlp: 'amber',
};

/** The rejection of a promise (fails the test when it resolves). */
async function rejection(p: PromiseLike<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail');
}

describe('e2e: errors, tokens and the CLI through the SDK', () => {
  const server = new TestServer();
  let account_id: string;

  beforeAll(async () => {
    await server.start();
    account_id = server.account;
  });
  afterAll(async () => {
    expect(await server.disposeTakingErrors()).toBe('');
  });

  it('raises BadRequestError (400) with numeric codes for an invalid body and an invalid query', async () => {
    const te = server.client().cloudforceOne.threatEvents;
    const err = await rejection(te.create({ ...event, account_id, date: 'yesterday', tlp: '' }));
    expect(err).toBeInstanceOf(Cloudflare.BadRequestError);
    const bad = err as InstanceType<typeof Cloudflare.BadRequestError>;
    expect(bad.status).toBe(400);
    expect(bad.errors.length).toBeGreaterThan(0);
    for (const e of bad.errors) {
      expect(typeof e.code).toBe('number');
      expect(e.message).toEqual(expect.any(String));
    }
    expect(bad.errors.map((e) => e.message).join('\n')).toMatch(/tlp/);

    const badList = await rejection(
      te.list({ account_id, search: [{ field: 'attacker', op: 'nonsense' as 'equals', value: 'x' }] }),
    );
    expect(badList).toBeInstanceOf(Cloudflare.BadRequestError);
    expect((badList as ApiError).errors[0]?.code).toEqual(expect.any(Number));

    const badCursor = await rejection(te.list({ account_id, cursor: 'not-a-cursor', pageSize: 5 }));
    expect(badCursor).toBeInstanceOf(Cloudflare.BadRequestError);
  });

  it('raises NotFoundError (404) for an unknown event', async () => {
    const te = server.client().cloudforceOne.threatEvents;
    const err = await rejection(te.get('0190a0a0-0000-7000-8000-000000000000', { account_id }));
    expect(err).toBeInstanceOf(Cloudflare.NotFoundError);
    expect((err as ApiError).errors[0]?.code).toEqual(expect.any(Number));
  });

  it('raises AuthenticationError (401) without a token and with an unknown one', async () => {
    for (const token of [null, 'td_not_a_real_token_at_all']) {
      const err = await rejection(server.client(token).cloudforceOne.threatEvents.list({ account_id }));
      expect(err).toBeInstanceOf(Cloudflare.AuthenticationError);
      expect((err as ApiError).status).toBe(401);
      expect((err as ApiError).errors[0]?.code).toEqual(expect.any(Number));
    }
  });

  it('a read-only token made by the CLI while the server runs can list but not create (403)', async () => {
    await server.client().cloudforceOne.threatEvents.create({ ...event, account_id });
    const { token } = await createTokenWithCli(server.dataDir, account_id, { readOnly: true });
    const te = server.client(token).cloudforceOne.threatEvents;

    const listed = await result<unknown[]>(te.list({ account_id }));
    expect(listed.length).toBeGreaterThan(0);
    expect(await result<unknown[]>(te.datasets.list({ account_id }))).not.toHaveLength(0);

    const err = await rejection(te.create({ ...event, account_id }));
    expect(err).toBeInstanceOf(Cloudflare.PermissionDeniedError);
    expect((err as ApiError).status).toBe(403);
    const dsErr = await rejection(te.datasets.create({ account_id, name: 'nope', isPublic: false }));
    expect(dsErr).toBeInstanceOf(Cloudflare.PermissionDeniedError);
  });

  it("another account's token gets 403 on this account", async () => {
    const other = await createTokenWithCli(server.dataDir, 'e2e-other-account');
    const mine = server.client(other.token).cloudforceOne.threatEvents;
    // It works on its own account …
    expect(await result<unknown[]>(mine.list({ account_id: 'e2e-other-account' }))).toEqual([]);
    // … and is refused on ours, for reads and for writes.
    for (const call of [mine.list({ account_id }), mine.create({ ...event, account_id })]) {
      const err = await rejection(call);
      expect(err).toBeInstanceOf(Cloudflare.PermissionDeniedError);
      expect((err as ApiError).status).toBe(403);
    }
  });

  it('token list and token revoke through the CLI; a revoked token gets 401', async () => {
    const made = await createTokenWithCli(server.dataDir, account_id, { name: 'to revoke' });
    const te = server.client(made.token).cloudforceOne.threatEvents;
    await te.list({ account_id });

    const before = await server.cli(['token', 'list', '--account', account_id]);
    expect(before.code).toBe(0);
    const line = before.stdout.split('\n').find((l) => l.startsWith(made.id));
    expect(line).toContain(`account=${account_id}`);
    expect(line).toContain('live');
    expect(line).toContain('"to revoke"');
    // Secrets are never listed.
    expect(before.stdout).not.toContain(made.token);
    expect(before.stdout).not.toContain(server.token);

    const revoked = await server.cli(['token', 'revoke', made.id]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(made.id);

    const after = await server.cli(['token', 'list', '--account', account_id]);
    expect(after.stdout.split('\n').find((l) => l.startsWith(made.id))).toMatch(/revoked \d{4}-/);

    const err = await rejection(te.list({ account_id }));
    expect(err).toBeInstanceOf(Cloudflare.AuthenticationError);
    expect((err as ApiError).status).toBe(401);
    // The other tokens still work.
    await server.client().cloudforceOne.threatEvents.list({ account_id });

    const again = await server.cli(['token', 'revoke', made.id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(made.id);
  });
});
