import type { OpenAPIHono, RouteConfig, RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from './auth.ts';

/** The handler context of a route, with its validated input typed. */
export type RouteContext<R extends RouteConfig> = Parameters<RouteHandler<R, AppEnv>>[0];

/**
 * Registers a route with a handler that answers a plain Response (built by `reply`). The
 * envelope is the same for every route, so the typed-response machinery adds nothing here.
 */
export function register<R extends RouteConfig>(
  app: OpenAPIHono<AppEnv>,
  route: R,
  handler: (c: RouteContext<R>) => Response | Promise<Response>,
): void {
  app.openapi(route, handler as unknown as RouteHandler<R, AppEnv>);
}
