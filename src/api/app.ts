import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { Clock } from '../domain/clock.ts';
import type { Config } from '../domain/context.ts';
import { ApiError } from '../domain/errors.ts';
import { formatIssues } from '../domain/events/input.ts';
import type { IdGenerator } from '../domain/ids.ts';
import type { Stores } from '../store/stores.ts';
import { aggregateRoutes } from './analytics/index.ts';
import { type AppEnv, requireToken } from './auth.ts';
import { lookupRoutes } from './catalogs/index.ts';
import { eventCategoryRoutes } from './categories/index.ts';
import { datasetRetentionRoutes, datasetRoutes } from './datasets/index.ts';
import { renderDocs } from './docs.ts';
import { errorBody, renderError } from './errors.ts';
import { eventByIdRoutes, eventRoutes } from './events/index.ts';
import { lifecycleRoutes, revertRoutes } from './events/lifecycle.ts';
import { bulkRelationshipAndGraphRoutes, eventLinkRoutes, relatedEventsRoute } from './events/links.ts';
import { graphqlRoutes } from './graphql/index.ts';
import { indicatorRoutes } from './indicators/index.ts';
import type { Logger } from './logger.ts';
import { queryAlertRoutes, savedQueryRoutes } from './queries/index.ts';
import { tagRoutes } from './tags/index.ts';
import { taxiiRoutes } from './taxii/index.ts';

export interface AppDeps {
  stores: Stores;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  config: Config;
  /** False while the server is shutting down: health answers 503 and new requests are refused. */
  isServing?: () => boolean;
}

/** Routes of the Cloudforce One API, without a prefix; mounted at `/` and at `/client/v4`. */
function cloudforceOne(deps: AppDeps): OpenAPIHono<AppEnv> {
  const api = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const where = result.target === 'json' ? '' : result.target;
        throw new ApiError('invalidInput', formatIssues(result.error.issues, where));
      }
    },
  });
  api.use('/accounts/:account_id/*', requireToken(deps));
  api.use(
    '/accounts/:account_id/*',
    bodyLimit({
      maxSize: deps.config.maxBodyBytes,
      onError: () => {
        throw new ApiError(
          'payloadTooLarge',
          `request body is larger than ${deps.config.maxBodyBytes} bytes`,
        );
      },
    }),
  );
  datasetRoutes(api);
  datasetRetentionRoutes(api);
  eventRoutes(api);
  // Literal /events/<word> paths must be registered before /events/{event_id}.
  lookupRoutes(api);
  eventCategoryRoutes(api);
  tagRoutes(api);
  eventLinkRoutes(api);
  lifecycleRoutes(api);
  revertRoutes(api);
  aggregateRoutes(api);
  graphqlRoutes(api);
  bulkRelationshipAndGraphRoutes(api);
  indicatorRoutes(api);
  relatedEventsRoute(api);
  // /events/queries/alerts… and /events/queries/create before /events/queries/{query_id}.
  queryAlertRoutes(api);
  savedQueryRoutes(api);
  eventByIdRoutes(api);
  return api;
}

/** Builds the whole HTTP application. No work at import time; everything comes from `deps`. */
export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  const api = cloudforceOne(deps);

  app.use('*', async (c, next) => {
    const started = performance.now();
    const requestId = c.req.header('cf-ray') ?? deps.ids.uuid();
    c.set('requestId', requestId);
    if (deps.isServing && !deps.isServing() && c.req.path !== '/healthz') {
      c.header('Connection', 'close');
      throw new ApiError('unavailable', 'server is shutting down; retry shortly');
    }
    await next();
    c.header('x-request-id', requestId);
    deps.logger.info({
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
      requestId,
    });
  });

  app.get('/healthz', (c) =>
    deps.isServing && !deps.isServing() ? c.json({ status: 'stopping' }, 503) : c.json({ status: 'ok' }, 200),
  );
  app.route('/', taxiiRoutes(deps));
  app.route('/', api);
  app.route('/client/v4', api);

  api.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API token with Cloudforce One Read or Cloudforce One Write (npx threatdesk token create)',
  });
  const document = () =>
    api.getOpenAPI31Document({
      openapi: '3.1.0',
      info: {
        title: 'threatdesk — Cloudforce One API',
        version: '0.1.0',
        description:
          'Self-hosted server for the Cloudflare Cloudforce One API. Paths are served at / and /client/v4.',
      },
      servers: [{ url: '/client/v4' }, { url: '/' }],
    });
  app.get('/openapi.json', (c) => c.json(document()));
  app.get('/docs', (c) => c.html(renderDocs(document())));

  app.notFound((c) =>
    c.json(errorBody(new ApiError('routeNotFound', `no route for ${c.req.method} ${c.req.path}`)), 404),
  );
  app.onError((err, c) => renderError(err, c, deps.logger));
  return app;
}
