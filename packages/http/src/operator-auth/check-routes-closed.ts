import type { FastifyInstance } from 'fastify';
import type { OperatorRoute } from './operator-auth.js';

/** One route as {@link checkRoutesClosed} tried it: the path it requested and the status it got (closed routes only). */
export interface CheckedRoute extends OperatorRoute {
  readonly path: string;
  readonly status?: number;
}

/** What {@link checkRoutesClosed} found: every route it saw, the open ones, and the closed ones that did not answer 401. */
export interface RoutesClosedReport {
  readonly closed: readonly CheckedRoute[];
  readonly open: readonly CheckedRoute[];
  /** Closed routes that answered something else than 401 without credentials: each one is a hole. */
  readonly unprotected: readonly CheckedRoute[];
}

/** A concrete path for a route pattern: every `:param` (with or without a regex) and `*` becomes `x`. */
export function samplePath(url: string): string {
  return url.replace(/:[A-Za-z0-9_]+(\([^)]*\))?/g, 'x').replace(/\*/g, 'x');
}

/**
 * Walks the route table the operator-auth plugin recorded (every route registered after it, every
 * method, through Fastify's `onRoute`) and requests each route that is not marked open without
 * any credentials, with `app.inject`. For tests: `expect(report.unprotected).toEqual([])` fails
 * as soon as a new route skips authentication. Also lists the open routes, so a test can pin them.
 */
export async function checkRoutesClosed(app: FastifyInstance): Promise<RoutesClosedReport> {
  await app.ready();
  const closed: CheckedRoute[] = [];
  const open: CheckedRoute[] = [];
  for (const route of app.operatorAuth.routes()) {
    const path = samplePath(route.url);
    if (route.open) {
      open.push({ ...route, path });
      continue;
    }
    const response = await app.inject({ method: route.method as 'GET', url: path });
    closed.push({ ...route, path, status: response.statusCode });
  }
  return { closed, open, unprotected: closed.filter((route) => route.status !== 401) };
}
