/**
 * `@mailroom/http/operator-auth`: operator authentication for a Fastify app, closed by default. A
 * token (configured or generated and printed once as a login link), bearer calls for scripts,
 * `HttpOnly; SameSite=Strict` session cookies that expire, an origin and JSON-only check on every
 * state-changing request, an audit entry for each, and a test helper that walks the route table.
 * See docs/http.md.
 */
export { type CheckedRoute, checkRoutesClosed, type RoutesClosedReport, samplePath } from './check-routes-closed.js';
export {
  markRoutesOpen,
  OPEN_ROUTE,
  type OperatorAuthHandle,
  type OperatorAuthOptions,
  type OperatorIdentity,
  type OperatorRoute,
  operatorAuth,
  operatorLoginUrl,
} from './operator-auth.js';
export { generateOperatorToken, MIN_OPERATOR_TOKEN_LENGTH, type OperatorToken, resolveOperatorToken } from './operator-token.js';
export { isJsonContentType, ownOrigin, requestOrigin, STATE_CHANGING_METHODS } from './request-origin.js';
