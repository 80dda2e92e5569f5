import { MailroomError } from '@mailroom/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods, onRequestHookHandler, RouteOptions } from 'fastify';
import { HttpErrorCodes } from './errors.js';

/** The request header that picks a version on an unversioned path. */
export const ACCEPT_VERSION_HEADER = 'accept-version';
/** The response header saying which version answered. */
export const API_VERSION_HEADER = 'api-version';

/** The name of the Fastify route constraint that matches `Accept-Version` by major version. */
export const API_VERSION_CONSTRAINT = 'apiVersion';

/**
 * Reads the major version an `Accept-Version` header asks for: `2`, `v2`, `2.1`, `2.x` all mean
 * `2`. Returns undefined without a header and `invalid` for anything else.
 */
export function requestedVersion(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  const match = /^\s*v?(\d{1,6})(?:\.(?:\d+|x|\*)){0,2}\s*$/i.exec(value);
  return match ? String(Number(match[1])) : 'invalid';
}

/**
 * The Fastify constraint strategy behind versioned routes: routes constrained to `apiVersion: '2'`
 * match requests whose `Accept-Version` asks for major version 2; requests without the header (or
 * with a version no route serves) fall through to the unconstrained route of the same path.
 */
export const apiVersionStrategy = {
  name: API_VERSION_CONSTRAINT,
  storage() {
    const handlers = new Map<string, unknown>();
    return {
      get: (version: string) => (handlers.get(version) ?? null) as never,
      set: (version: string, store: unknown) => {
        handlers.set(version, store);
      },
    };
  },
  deriveConstraint: (request: { headers: Record<string, string | string[] | undefined> }) => requestedVersion(request.headers[ACCEPT_VERSION_HEADER]),
  mustMatchWhenDerived: false,
};

/** How a deprecated version announces it: `Deprecation` (RFC 9745), `Sunset` (RFC 8594) and `Link` headers. */
export interface Deprecation {
  /** Since when the version is deprecated (sent as `Deprecation: @<unix seconds>`). */
  since: Date | string;
  /** When it stops being served (sent as `Sunset: <HTTP-date>`). */
  sunset?: Date | string;
  /** A page explaining the deprecation and how to migrate (sent as `Link: <url>; rel="deprecation"`). */
  link?: string;
}

/** One version of a versioned route: a Fastify route (handler, schema, hooks...) plus its deprecation. */
export type RouteVersion = Omit<RouteOptions, 'method' | 'url' | 'constraints'> & { deprecated?: Deprecation };

/** Options of {@link versionedRoute}. */
export interface VersionedRouteOptions {
  method: HTTPMethods | HTTPMethods[];
  /** The unversioned path (`/orders/:id`); version `n` is also served at `/v<n>` + this path. */
  url: string;
  /** Each version by its major number. */
  versions: Record<number, RouteVersion>;
  /** The version the unversioned path serves without `Accept-Version`. Default: the newest version not deprecated. */
  defaultVersion?: number;
}

function toDate(value: Date | string, what: string): Date {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw new MailroomError(HttpErrorCodes.HTTP_CONFIG, `${what} is not a valid date: ${String(value)}`);
  return date;
}

/** The headers a deprecated version answers with: `Deprecation: @<seconds>`, and `Sunset` / `Link` when given. */
export function deprecationHeaders(deprecation: Deprecation, successor?: string): Record<string, string> {
  const headers: Record<string, string> = { deprecation: `@${Math.floor(toDate(deprecation.since, 'deprecated.since').getTime() / 1000)}` };
  if (deprecation.sunset !== undefined) headers.sunset = toDate(deprecation.sunset, 'deprecated.sunset').toUTCString();
  const links: string[] = [];
  if (deprecation.link !== undefined) links.push(`<${deprecation.link}>; rel="deprecation"; type="text/html"`);
  if (successor !== undefined) links.push(`<${successor}>; rel="successor-version"`);
  if (links.length > 0) headers.link = links.join(', ');
  return headers;
}

function hooks(existing: RouteOptions['onRequest'], added: onRequestHookHandler): onRequestHookHandler[] {
  return [added, ...(existing === undefined ? [] : Array.isArray(existing) ? existing : [existing])] as onRequestHookHandler[];
}

/**
 * Serves every version of one endpoint side by side, in both styles: `/v<n><url>` for each version,
 * and `<url>` picking the version from `Accept-Version` (the default version without it; problem
 * `406 MAILROOM_ERR_HTTP_UNSUPPORTED_VERSION` for a version not served). Responses carry
 * `Api-Version` and, on the unversioned path, `Vary: Accept-Version`; deprecated versions add
 * `Deprecation`, `Sunset` and `Link` headers. Each version keeps its own schema, so each is validated
 * as declared. Needs the `mailroomFastify` plugin (it registers the `apiVersion` constraint).
 * Throws `MAILROOM_ERR_HTTP_CONFIG` for bad options.
 */
export function versionedRoute(app: FastifyInstance, options: VersionedRouteOptions): void {
  const fail = (message: string) => new MailroomError(HttpErrorCodes.HTTP_CONFIG, `versionedRoute ${String(options?.url)}: ${message}`);
  if (typeof options?.url !== 'string' || !options.url.startsWith('/')) throw fail("url must be a path starting with '/'");
  if (!app.hasConstraintStrategy(API_VERSION_CONSTRAINT)) throw fail('register the mailroomFastify plugin on this Fastify instance first');
  const entries = Object.entries(options.versions ?? {}).map(([key, route]) => {
    const version = Number(key);
    if (!Number.isSafeInteger(version) || version < 1) throw fail(`version keys must be whole numbers >= 1, got ${key}`);
    if (typeof route?.handler !== 'function') throw fail(`version ${key} needs a handler`);
    if (route.deprecated) deprecationHeaders(route.deprecated); // checks the dates now
    return { version, route };
  });
  if (entries.length === 0) throw fail('versions must list at least one version');
  entries.sort((a, b) => a.version - b.version);
  const newest = entries[entries.length - 1] as (typeof entries)[number];
  const stable = entries.filter((entry) => !entry.route.deprecated);
  const defaultVersion = options.defaultVersion ?? (stable[stable.length - 1] ?? newest).version;
  const fallback = entries.find((entry) => entry.version === defaultVersion);
  if (!fallback) throw fail(`defaultVersion ${defaultVersion} is not one of the versions`);
  const served = entries.map((entry) => entry.version);

  for (const { version, route } of entries) {
    const { deprecated, ...fastifyRoute } = route;
    const pathStyle = `/v${version}${options.url}`;
    const announce =
      (style: 'path' | 'header'): onRequestHookHandler =>
      (request: FastifyRequest, reply: FastifyReply, done) => {
        reply.header(API_VERSION_HEADER, String(version));
        if (style === 'header') reply.header('vary', ACCEPT_VERSION_HEADER);
        if (deprecated) {
          const successor = style === 'path' && newest.version !== version ? request.url.replace(`/v${version}/`, `/v${newest.version}/`) : undefined;
          for (const [name, value] of Object.entries(deprecationHeaders(deprecated, successor))) reply.header(name, value);
        }
        done();
      };
    app.route({ ...fastifyRoute, method: options.method, url: pathStyle, onRequest: hooks(fastifyRoute.onRequest, announce('path')) });
    app.route({
      ...fastifyRoute,
      method: options.method,
      url: options.url,
      constraints: { [API_VERSION_CONSTRAINT]: String(version) },
      onRequest: hooks(fastifyRoute.onRequest, announce('header')),
    });
  }

  const { deprecated: _ignored, ...defaultRoute } = fallback.route;
  const rejectUnknown: onRequestHookHandler = (request, _reply, done) => {
    const asked = request.headers[ACCEPT_VERSION_HEADER];
    if (requestedVersion(asked) !== undefined) {
      done(
        new MailroomError(
          HttpErrorCodes.HTTP_UNSUPPORTED_VERSION,
          `${request.method} ${options.url} has no version ${JSON.stringify(asked)}; Accept-Version can be ${served.join(', ')}`,
          { details: { versions: served } },
        ),
      );
      return;
    }
    done();
  };
  const announceDefault: onRequestHookHandler = (_request, reply, done) => {
    reply.header(API_VERSION_HEADER, String(defaultVersion));
    reply.header('vary', ACCEPT_VERSION_HEADER);
    if (fallback.route.deprecated) for (const [name, value] of Object.entries(deprecationHeaders(fallback.route.deprecated))) reply.header(name, value);
    done();
  };
  app.route({ ...defaultRoute, method: options.method, url: options.url, onRequest: [rejectUnknown, ...hooks(defaultRoute.onRequest, announceDefault)] });
}
