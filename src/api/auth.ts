import type { MiddlewareHandler } from 'hono';
import type { Clock } from '../domain/clock.ts';
import type { Config, Ctx } from '../domain/context.ts';
import { ApiError } from '../domain/errors.ts';
import type { IdGenerator } from '../domain/ids.ts';
import { authenticate } from '../domain/tokens.ts';
import type { Stores } from '../store/stores.ts';
import type { TokenRecord } from '../store/system/system-store.ts';

export interface AppEnv {
  Variables: { ctx: Ctx; requestId: string };
}

/**
 * Bearer-token check for every `/accounts/{account_id}/…` route: 401 when the token is
 * missing or unknown, 403 when it belongs to another account. Builds the request's `Ctx`.
 */
export function requireToken(deps: {
  stores: Stores;
  clock: Clock;
  ids: IdGenerator;
  config: Config;
}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) {
      throw new ApiError(
        'authentication',
        header
          ? 'Authorization header must be "Bearer <token>"'
          : 'missing API token: send Authorization: Bearer <token>',
      );
    }
    const token = await authenticate(deps.stores, match[1]);
    if (!token) throw new ApiError('authentication', 'unknown or revoked API token');
    const accountId = decodeURIComponent(c.req.param('account_id') ?? '');
    if (token.accountId !== accountId) {
      throw new ApiError('forbidden', `this token does not grant access to account ${accountId}`);
    }
    c.set('ctx', contextFor(token, accountId, deps));
    await next();
  };
}

/** The request context of an authenticated token on one of its accounts. */
export function contextFor(
  token: TokenRecord,
  accountId: string,
  deps: { stores: Stores; clock: Clock; ids: IdGenerator; config: Config },
): Ctx {
  return {
    accountId,
    permission: token.permission,
    tokenId: token.id,
    email: token.email,
    clock: deps.clock,
    ids: deps.ids,
    stores: deps.stores,
    config: deps.config,
  };
}
