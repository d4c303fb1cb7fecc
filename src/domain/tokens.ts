import type { Stores } from '../store/stores.ts';
import type { Permission, TokenRecord } from '../store/system/system-store.ts';
import type { Clock } from './clock.ts';
import type { IdGenerator } from './ids.ts';

/** SHA-256 of a token, hex: what is stored and looked up. The token itself is never stored. */
export async function hashToken(token: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
  let out = '';
  for (const b of new Uint8Array(digest)) out += b.toString(16).padStart(2, '0');
  return out;
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export interface TokenServices {
  stores: Stores;
  clock: Clock;
  ids: IdGenerator;
}

/** Creates an API token for an account (creating the account when new). The secret is shown once. */
export async function createToken(
  svc: TokenServices,
  input: { accountId: string; permission: Permission; name?: string; email?: string | null; secret?: string },
): Promise<{ token: string; record: TokenRecord }> {
  const now = svc.clock.now();
  const token = input.secret ?? `td_${svc.ids.secret(24)}`;
  const record: TokenRecord = {
    id: svc.ids.uuid(),
    accountId: input.accountId,
    name: input.name ?? (input.permission === 'write' ? 'write token' : 'read token'),
    email: input.email ?? null,
    permission: input.permission,
    createdAt: now,
    revokedAt: null,
  };
  svc.stores.system.ensureAccount(input.accountId, now);
  svc.stores.system.insertToken(record, await hashToken(token));
  return { token, record };
}

/** Makes sure a write token with exactly this secret exists for the account (bootstrap). */
export async function ensureToken(svc: TokenServices, accountId: string, secret: string): Promise<void> {
  const existing = svc.stores.system.tokenByHash(await hashToken(secret));
  if (existing && existing.accountId === accountId && existing.permission === 'write') return;
  if (existing) throw new Error('the bootstrap token is already used by another account or as a read token');
  await createToken(svc, { accountId, permission: 'write', name: 'bootstrap', secret });
}

/** The live token a bearer secret belongs to, or undefined. */
export async function authenticate(stores: Stores, bearer: string): Promise<TokenRecord | undefined> {
  if (bearer.length < 8 || bearer.length > 512) return undefined;
  const hash = await hashToken(bearer);
  const found = stores.system.tokenByHash(hash);
  if (!found || !constantTimeEqual(found.hash, hash)) return undefined;
  const { hash: _hash, ...record } = found;
  return record;
}

/** A new random account id, 32 hex characters like Cloudflare's. */
export function newAccountId(ids: IdGenerator): string {
  return ids.secret(16);
}
