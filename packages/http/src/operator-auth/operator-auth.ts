import fastifyCookie from '@fastify/cookie';
import { createDefaultLogger, type Logger, MailroomError } from '@mailroom/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import { HttpErrorCodes } from '../errors.js';
import { resolveOperatorToken, tokenMatcher, tokenRef } from './operator-token.js';
import { isJsonContentType, ownOrigin, requestOrigin, STATE_CHANGING_METHODS } from './request-origin.js';
import { SessionStore } from './session-store.js';

/** The route config that opens a route to everyone: `app.get('/x', { config: OPEN_ROUTE }, handler)`. Every other route needs credentials. */
export const OPEN_ROUTE = Object.freeze({ operatorAuth: 'open' as const });

/** Options of the {@link operatorAuth} plugin. */
export interface OperatorAuthOptions {
  /** The operator token (from your environment, checked by `resolveOperatorToken`). Undefined: one is generated; read it from `app.operatorAuth.token` and print its login link once. */
  token?: string;
  /** How long a session lasts from login (absolute, not sliding). Default 8 hours. */
  sessionTtlMs?: number;
  /** The session cookie's name. Default `mailroom_session`; give each operator app on one host its own (cookies are not separated by port). */
  cookieName?: string;
  /** Origins besides the server's own that may send state-changing requests, e.g. `http://localhost:5173` for a dev server. */
  allowedOrigins?: readonly string[];
  /** Where the login routes are: `GET <loginPath>?token=` and `POST <loginPath>`. Default `/login`. */
  loginPath?: string;
  /** `POST <logoutPath>` ends the session. Default `/logout`. */
  logoutPath?: string;
  /** `GET <sessionPath>` says whether the caller is logged in. Default `/session`. */
  sessionPath?: string;
  /** Where `GET <loginPath>?token=` redirects after login. Default `/`. */
  afterLogin?: string;
  /** The audit log: one entry per state-changing request and per login. Default: pino on stdout named `mailroom-audit`. */
  logger?: Logger;
  /** The clock, for tests of expiry. Default `Date.now`. */
  now?: () => number;
}

/** Who made a request, as the audit log names them: `session:<ref>`, `token:<ref>` (never the token or the cookie). */
export interface OperatorIdentity {
  readonly who: string;
  readonly via: 'session' | 'bearer';
  /** When the session ends (sessions only). */
  readonly expiresAt?: Date;
}

/** A route the plugin saw registered, and whether its config opens it. */
export interface OperatorRoute {
  readonly method: string;
  readonly url: string;
  readonly open: boolean;
}

/** What the plugin adds to the app as `app.operatorAuth`. */
export interface OperatorAuthHandle {
  /** The token in force (generated when none was given). */
  readonly token: string;
  /** True when the token was generated at start: print {@link loginUrl} once. */
  readonly generated: boolean;
  /** The login link for a server at `baseUrl` (e.g. `http://127.0.0.1:3000`): opening it logs the browser in. */
  loginUrl(baseUrl: string): string;
  /** Every route registered after the plugin, one entry per method, with whether it is open. */
  routes(): readonly OperatorRoute[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `'open'`: the route answers without operator credentials (see `OPEN_ROUTE`). Anything else: closed. */
    operatorAuth?: 'open';
  }
  interface FastifyInstance {
    /** The operator-auth plugin's token, login link and route table. */
    operatorAuth: OperatorAuthHandle;
  }
  interface FastifyRequest {
    /** The authenticated operator, when the request carries valid credentials. */
    operator: OperatorIdentity | undefined;
  }
}

const HOUR_MS = 3_600_000;

function path(name: string, value: string | undefined, fallback: string): string {
  const result = value ?? fallback;
  if (!/^\/[A-Za-z0-9/_.-]*$/.test(result)) throw new MailroomError(HttpErrorCodes.HTTP_CONFIG, `operatorAuth: ${name} must be a path such as ${fallback}`);
  return result;
}

function normalizeOrigin(origin: string): string {
  try {
    const parsed = new URL(origin);
    if (parsed.origin === 'null') throw new Error('opaque');
    return parsed.origin.toLowerCase();
  } catch {
    throw new MailroomError(
      HttpErrorCodes.HTTP_CONFIG,
      `operatorAuth: allowedOrigins holds ${JSON.stringify(origin)}, which is not an origin such as http://localhost:5173`,
    );
  }
}

function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match ? (match[1] as string) : '';
}

/**
 * Operator authentication for a Fastify app, closed by default: every route, present and future,
 * answers `401` without credentials unless its config is {@link OPEN_ROUTE}. Credentials are the
 * operator token as `Authorization: Bearer <token>` (scripts), or a session cookie (`HttpOnly;
 * SameSite=Strict; Path=/`, `Secure` over https) made by `GET /login?token=` (the link printed at
 * start; it redirects so the token leaves the address bar) or `POST /login {"token"}`; sessions
 * expire after `sessionTtlMs`, `POST /logout` ends one. Every POST, PUT, PATCH and DELETE, on open
 * routes too, must come from the server's own origin (`Origin`, else `Referer`; a browser session
 * sending neither is refused, a bearer call needs none) and say `Content-Type: application/json`:
 * other pages cannot send them with forms or `no-cors` fetches. Each state-changing request and
 * each login is written to the audit log (who, what, when, outcome; never a token). Refusals are
 * problem+json: 401 `MAILROOM_ERR_AUTH_REQUIRED`, 403 `MAILROOM_ERR_AUTH_CROSS_ORIGIN`, 415
 * `MAILROOM_ERR_AUTH_JSON_REQUIRED`. Register it right after `mailroomFastify`, before any route.
 * Throws `MAILROOM_ERR_HTTP_CONFIG` for bad options.
 */
export const operatorAuth = fastifyPlugin(
  async (app: FastifyInstance, options: OperatorAuthOptions) => {
    if (!app.hasReplyDecorator('problem')) {
      throw new MailroomError(HttpErrorCodes.HTTP_CONFIG, 'operatorAuth needs the mailroomFastify plugin: register it on the app first');
    }
    const { token, generated } = options.token === undefined ? resolveOperatorToken(undefined) : resolveOperatorToken(options.token, 'operatorAuth: token');
    const ttlMs = options.sessionTtlMs ?? 8 * HOUR_MS;
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1000)
      throw new MailroomError(HttpErrorCodes.HTTP_CONFIG, 'operatorAuth: sessionTtlMs must be a whole number >= 1000');
    const cookieName = options.cookieName ?? 'mailroom_session';
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(cookieName))
      throw new MailroomError(HttpErrorCodes.HTTP_CONFIG, 'operatorAuth: cookieName must be 1-64 letters, digits, _ or -');
    const loginPath = path('loginPath', options.loginPath, '/login');
    const logoutPath = path('logoutPath', options.logoutPath, '/logout');
    const sessionPath = path('sessionPath', options.sessionPath, '/session');
    const afterLogin = path('afterLogin', options.afterLogin, '/');
    const allowed = new Set((options.allowedOrigins ?? []).map(normalizeOrigin));
    const audit = (options.logger ?? createDefaultLogger('mailroom-audit')).child({ audit: true });
    const sessions = new SessionStore(ttlMs, options.now);
    const matches = tokenMatcher(token);
    const bearerWho = `token:${tokenRef(token)}`;
    const denials = new WeakMap<FastifyRequest, string>();
    const routes: RouteOptions[] = [];

    if (!app.hasDecorator('parseCookie')) await app.register(fastifyCookie);
    app.decorate('operatorAuth', {
      token,
      generated,
      loginUrl: (baseUrl: string) => operatorLoginUrl(baseUrl, token, loginPath),
      routes: () => routes.flatMap((route) => [route.method].flat().map((method) => ({ method, url: route.url, open: route.config?.operatorAuth === 'open' }))),
    } satisfies OperatorAuthHandle);
    app.decorateRequest('operator', undefined);
    // Kept by reference: a later onRoute hook (see markRoutesOpen) may still change the config.
    app.addHook('onRoute', (route) => {
      routes.push(route);
    });

    const deny = (request: FastifyRequest, reply: FastifyReply, status: 401 | 403 | 415, code: string, detail: string) => {
      denials.set(request, code);
      if (status === 401) reply.header('www-authenticate', 'Bearer realm="mailroom"');
      return reply.problem({
        type: 'about:blank',
        title: status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Unsupported Media Type',
        status,
        code,
        detail,
      });
    };
    const sessionOf = (request: FastifyRequest) => sessions.find(request.cookies?.[cookieName]);
    const cookieOptions = (request: FastifyRequest) => ({ path: '/', httpOnly: true, sameSite: 'strict', secure: request.protocol === 'https' }) as const;

    app.addHook('onRequest', async (request, reply) => {
      const open = request.routeOptions.config?.operatorAuth === 'open';
      const bearer = bearerOf(request);
      if (bearer !== undefined && bearer !== '' && matches(bearer)) {
        request.operator = { who: bearerWho, via: 'bearer' };
      } else {
        const session = sessionOf(request);
        if (session) request.operator = { who: `session:${session.ref}`, via: 'session', expiresAt: new Date(session.expiresAt) };
      }
      if (!open && request.operator === undefined) {
        const detail =
          bearer !== undefined
            ? 'The Authorization header does not carry the operator token (Authorization: Bearer <token>)'
            : `Log in first: open the login link printed at start, POST ${loginPath} {"token": "..."}, or send Authorization: Bearer <token>`;
        return deny(request, reply, 401, HttpErrorCodes.AUTH_REQUIRED, detail);
      }
      if (!STATE_CHANGING_METHODS.has(request.method)) return;
      // A bearer token is never sent by a browser on its own, so a request that carries one cannot be forged by another page.
      if (request.operator?.via !== 'bearer') {
        const claimed = requestOrigin(request);
        const own = ownOrigin(request);
        if (claimed.from === 'none') {
          if (request.operator?.via === 'session') {
            return deny(
              request,
              reply,
              403,
              HttpErrorCodes.AUTH_CROSS_ORIGIN,
              'A state-changing request with a session cookie must carry an Origin or Referer header',
            );
          }
        } else if (claimed.origin !== own && !allowed.has(claimed.origin)) {
          return deny(
            request,
            reply,
            403,
            HttpErrorCodes.AUTH_CROSS_ORIGIN,
            `Cross-origin ${request.method} refused: ${claimed.from === 'origin' ? 'Origin' : 'Referer'} ${claimed.origin} is not ${own}`,
          );
        }
      }
      if (!isJsonContentType(request)) {
        return deny(
          request,
          reply,
          415,
          HttpErrorCodes.AUTH_JSON_REQUIRED,
          `${request.method} requests must send Content-Type: application/json (got ${JSON.stringify(request.headers['content-type'] ?? 'none')})`,
        );
      }
    });

    app.addHook('onResponse', async (request, reply) => {
      const login = request.routeOptions.url === loginPath;
      if (!STATE_CHANGING_METHODS.has(request.method) && !login) return;
      const status = reply.statusCode;
      const code = denials.get(request);
      audit.info(
        {
          who: request.operator?.who ?? 'anonymous',
          action: `${request.method} ${request.routeOptions.url ?? request.url.split('?', 1)[0]}`,
          path: request.url.split('?', 1)[0],
          at: new Date().toISOString(),
          status,
          outcome: status < 400 ? 'done' : code !== undefined || status === 401 || status === 403 ? 'denied' : status < 500 ? 'refused' : 'failed',
          ...(code !== undefined && { code }),
          ip: request.ip,
          correlationId: request.correlationId,
        },
        `operator action ${request.method} ${request.routeOptions.url ?? ''}: ${status}`,
      );
    });

    const startSession = (request: FastifyRequest, reply: FastifyReply) => {
      const previous = request.cookies?.[cookieName];
      sessions.delete(previous);
      const session = sessions.create();
      request.operator = { who: `session:${session.ref}`, via: 'session', expiresAt: new Date(session.expiresAt) };
      reply.setCookie(cookieName, session.id, { ...cookieOptions(request), maxAge: Math.floor(ttlMs / 1000) });
      reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
      return session;
    };
    const wrongToken = (request: FastifyRequest, reply: FastifyReply) =>
      deny(request, reply, 401, HttpErrorCodes.AUTH_REQUIRED, 'That is not the operator token: use the login link printed at start, or the configured token');

    app.get<{ Querystring: { token?: string } }>(loginPath, { config: OPEN_ROUTE }, async (request, reply) => {
      reply.header('referrer-policy', 'no-referrer').header('cache-control', 'no-store');
      if (!matches(request.query.token)) return wrongToken(request, reply);
      startSession(request, reply);
      return reply.redirect(afterLogin, 303);
    });
    app.post<{ Body: { token: string } }>(
      loginPath,
      {
        config: OPEN_ROUTE,
        schema: {
          body: { type: 'object', additionalProperties: false, required: ['token'], properties: { token: { type: 'string', minLength: 1, maxLength: 512 } } },
        },
      },
      async (request, reply) => {
        if (!matches(request.body.token)) return wrongToken(request, reply);
        const session = startSession(request, reply);
        return { authenticated: true, expiresAt: new Date(session.expiresAt).toISOString() };
      },
    );
    app.post(logoutPath, { config: OPEN_ROUTE }, async (request, reply) => {
      sessions.delete(request.cookies?.[cookieName]);
      reply.clearCookie(cookieName, cookieOptions(request));
      return reply.code(204).send();
    });
    app.get(sessionPath, { config: OPEN_ROUTE }, async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const operator = request.operator;
      if (operator === undefined) return { authenticated: false };
      return { authenticated: true, via: operator.via, ...(operator.expiresAt && { expiresAt: operator.expiresAt.toISOString() }) };
    });
  },
  { name: '@mailroom/http/operator-auth', fastify: '5.x' },
);

/** The login link of an operator-auth server at `baseUrl`: `<baseUrl><loginPath>?token=<token>`. Opening it logs the browser in. */
export function operatorLoginUrl(baseUrl: string, token: string, loginPath = '/login'): string {
  return `${baseUrl.replace(/\/+$/, '')}${loginPath}?token=${encodeURIComponent(token)}`;
}

/**
 * Opens every route registered after this call inside `scope` (an encapsulated plugin context):
 * for plugins that register routes you cannot give a config, such as `@fastify/static` serving a
 * public web UI. `await app.register(async (ui) => { markRoutesOpen(ui); await ui.register(fastifyStatic, ...) })`.
 */
export function markRoutesOpen(scope: FastifyInstance): void {
  scope.addHook('onRoute', (route) => {
    route.config = { ...route.config, operatorAuth: 'open' };
  });
}
