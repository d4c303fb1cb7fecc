import type { Context, MiddlewareHandler } from 'hono';
import { Hono } from 'hono';
import { ApiError } from '../../domain/errors.ts';
import { TAXII_MEDIA_TYPE } from '../../domain/stix/export.ts';
import {
  type AddedObject,
  apiRoot,
  collection,
  collections,
  discovery,
  MAX_OBJECT_LIMIT,
  manifestRecord,
  type ObjectFilters,
  type ObjectPage,
  objectById,
  objectsPage,
  TaxiiError,
} from '../../domain/taxii/taxii.ts';
import { authenticate } from '../../domain/tokens.ts';
import type { AppDeps } from '../app.ts';
import { type AppEnv, contextFor } from '../auth.ts';
import { QueryParams } from '../query.ts';

/**
 * TAXII 2.1 (read-only) at /taxii2/:
 *   GET /taxii2/                                          discovery (API root of the token's account)
 *   GET /taxii2/{account_id}/                             API root
 *   GET /taxii2/{account_id}/collections/                 one collection per live dataset
 *   GET /taxii2/{account_id}/collections/{id}/            one collection
 *   GET /taxii2/{account_id}/collections/{id}/objects/    envelope; added_after, limit, next, match[…]
 *   GET /taxii2/{account_id}/collections/{id}/objects/{object_id}/           envelope of that object
 *   GET /taxii2/{account_id}/collections/{id}/objects/{object_id}/versions/  its versions
 *   GET /taxii2/{account_id}/collections/{id}/manifest/   manifest records; same paging and filters
 * Bearer tokens as for the Cloudforce One API (a read token is enough). Every answer, errors
 * included, is application/taxii+json;version=2.1; errors are {title, description, http_status}.
 */
export const TAXII_PREFIX = '/taxii2';

type TaxiiDeps = Pick<AppDeps, 'stores' | 'clock' | 'ids' | 'config' | 'logger'>;

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  406: 'Not Acceptable',
  413: 'Payload Too Large',
  500: 'Internal Server Error',
};

function taxiiJson(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': TAXII_MEDIA_TYPE, ...headers },
  });
}

function errorResponse(err: TaxiiError): Response {
  const headers: Record<string, string> =
    err.status === 401 ? { 'www-authenticate': 'Bearer realm="taxii2"' } : {};
  return taxiiJson(err.body(), err.status, headers);
}

/** Accept must allow the TAXII 2.1 media type (or plain JSON, for curl); otherwise 406. */
function acceptable(accept: string | undefined): boolean {
  if (!accept) return true;
  return accept.split(',').some((part) => {
    const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (type === '*/*' || type === 'application/*' || type === 'application/json') return true;
    if (type !== 'application/taxii+json') return false;
    const version = params.find((p) => p.startsWith('version='));
    return !version || version === 'version=2.1';
  });
}

/**
 * The bearer check of requireToken (auth.ts), answered the TAXII way: 401 without a known
 * token, 403 when the path names another account. On /taxii2/ the token's account is used.
 */
function taxiiAuth(deps: TaxiiDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!acceptable(c.req.header('accept'))) {
      throw new TaxiiError(406, 'Not Acceptable', `send Accept: ${TAXII_MEDIA_TYPE}`);
    }
    const header = c.req.header('authorization');
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) {
      throw new TaxiiError(
        401,
        'Unauthorized',
        header
          ? 'Authorization header must be "Bearer <token>"'
          : 'missing API token: send Authorization: Bearer <token>',
      );
    }
    const token = await authenticate(deps.stores, match[1]);
    if (!token) throw new TaxiiError(401, 'Unauthorized', 'unknown or revoked API token');
    // Middleware runs before routing, so the account is read from the path itself.
    const param = /^\/taxii2\/([^/]+)/.exec(c.req.path)?.[1];
    let accountId = token.accountId;
    if (param !== undefined) {
      try {
        accountId = decodeURIComponent(param);
      } catch {
        throw new TaxiiError(404, 'Not Found', 'malformed account id in the path');
      }
    }
    if (token.accountId !== accountId) {
      throw new TaxiiError(403, 'Forbidden', `this token does not grant access to account ${accountId}`);
    }
    c.set('ctx', contextFor(token, accountId, deps));
    await next();
  };
}

/** Query parameters of objects and manifest requests. */
function pageRequest(c: Context<AppEnv>): { filters: ObjectFilters; limit?: number; next?: string } {
  const q = new QueryParams(c.req.url);
  const list = (name: string) => q.list(name, 100);
  const limitText = q.string('limit');
  let limit: number | undefined;
  if (limitText !== undefined) {
    if (!/^\d+$/.test(limitText) || Number(limitText) < 1) {
      throw new TaxiiError(400, 'Invalid limit', 'limit must be a positive integer');
    }
    limit = Math.min(Number(limitText), MAX_OBJECT_LIMIT);
  }
  const next = q.string('next');
  return {
    filters: {
      addedAfter: q.string('added_after'),
      types: list('match[type]'),
      ids: list('match[id]'),
      versions: list('match[version]'),
      specVersions: list('match[spec_version]'),
    },
    ...(limit !== undefined ? { limit } : {}),
    ...(next ? { next } : {}),
  };
}

/** X-TAXII-Date-Added-First/Last of a page. */
function dateHeaders(objects: readonly AddedObject[]): Record<string, string> {
  const first = objects[0];
  const last = objects[objects.length - 1];
  return first && last
    ? { 'x-taxii-date-added-first': first.dateAdded, 'x-taxii-date-added-last': last.dateAdded }
    : {};
}

function envelope(page: ObjectPage) {
  return {
    more: page.more,
    ...(page.next ? { next: page.next } : {}),
    ...(page.objects.length ? { objects: page.objects.map((a) => a.object) } : {}),
  };
}

/** Registers a GET route with and without the trailing slash TAXII URLs carry. */
function get(app: Hono<AppEnv>, path: string, handler: (c: Context<AppEnv>) => Response | Promise<Response>) {
  app.get(path, handler);
  app.get(`${path}/`, handler);
}

/** The TAXII 2.1 routes (paths under /taxii2), mounted at the root by createApp. */
export function taxiiRoutes(deps: TaxiiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const P = TAXII_PREFIX;
  app.use(P, taxiiAuth(deps));
  app.use(`${P}/*`, taxiiAuth(deps));
  const collectionPath = `${P}/:account_id/collections/:collection_id`;

  get(app, P, (c) => taxiiJson(discovery(c.get('ctx'), new URL(c.req.url).origin)));
  get(app, `${P}/:account_id`, (c) => taxiiJson(apiRoot(c.get('ctx'))));
  get(app, `${P}/:account_id/collections`, (c) => {
    const list = collections(c.get('ctx'));
    return taxiiJson(list.length ? { collections: list } : {});
  });
  get(app, collectionPath, (c) => taxiiJson(collection(c.get('ctx'), c.req.param('collection_id') ?? '')));
  get(app, `${collectionPath}/objects`, async (c) => {
    const page = await objectsPage(c.get('ctx'), c.req.param('collection_id') ?? '', pageRequest(c));
    return taxiiJson(envelope(page), 200, dateHeaders(page.objects));
  });
  get(app, `${collectionPath}/manifest`, async (c) => {
    const page = await objectsPage(c.get('ctx'), c.req.param('collection_id') ?? '', pageRequest(c));
    return taxiiJson(
      {
        more: page.more,
        ...(page.next ? { next: page.next } : {}),
        ...(page.objects.length ? { objects: page.objects.map(manifestRecord) } : {}),
      },
      200,
      dateHeaders(page.objects),
    );
  });
  get(app, `${collectionPath}/objects/:object_id`, async (c) => {
    const page = await objectById(
      c.get('ctx'),
      c.req.param('collection_id') ?? '',
      c.req.param('object_id') ?? '',
      pageRequest(c),
    );
    return taxiiJson(envelope(page), 200, dateHeaders(page.objects));
  });
  get(app, `${collectionPath}/objects/:object_id/versions`, async (c) => {
    const page = await objectById(
      c.get('ctx'),
      c.req.param('collection_id') ?? '',
      c.req.param('object_id') ?? '',
      pageRequest(c),
    );
    const versions = page.objects.map((a) => manifestRecord(a).version);
    return taxiiJson({ more: false, versions }, 200, dateHeaders(page.objects));
  });
  const readOnly = (c: Context<AppEnv>) => {
    collection(c.get('ctx'), c.req.param('collection_id') ?? '');
    throw new TaxiiError(403, 'Forbidden', 'collections are read-only (can_write is false)');
  };
  for (const path of [`${collectionPath}/objects`, `${collectionPath}/objects/:object_id`]) {
    app.post(path, readOnly);
    app.post(`${path}/`, readOnly);
    app.delete(path, readOnly);
    app.delete(`${path}/`, readOnly);
  }
  app.all(`${P}/*`, (c) => {
    throw new TaxiiError(404, 'Not Found', `no TAXII resource for ${c.req.method} ${c.req.path}`);
  });
  app.onError((err, c) => {
    if (err instanceof TaxiiError) return errorResponse(err);
    if (err instanceof ApiError && err.status < 500) {
      const status = (TITLES[err.status] ? err.status : 400) as 400;
      return errorResponse(new TaxiiError(status, TITLES[status] ?? 'Bad Request', err.message));
    }
    deps.logger.error({
      msg: 'unhandled error',
      requestId: c.get('requestId'),
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
    return errorResponse(
      new TaxiiError(500, 'Internal Server Error', `request id ${c.get('requestId') ?? 'unknown'}`),
    );
  });
  return app;
}
