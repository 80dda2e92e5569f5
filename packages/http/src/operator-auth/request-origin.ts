import type { FastifyRequest } from 'fastify';

/** The methods that change state, checked for origin and content type. Every other method must not change anything. */
export const STATE_CHANGING_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** What {@link requestOrigin} found: the origin the browser claims, from `Origin` or else `Referer`, or none. */
export type ClaimedOrigin = { readonly from: 'origin' | 'referer'; readonly origin: string } | { readonly from: 'none' };

/** The server's own origin as the request addressed it: `<protocol>://<Host>` (Fastify's `request.protocol` and `request.host`). */
export function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`.toLowerCase();
}

/**
 * The origin a request claims to come from: its `Origin` header (`null` stays `null`, which
 * matches nothing), else the origin of its `Referer`, else none. Browsers send `Origin` on every
 * POST, PUT, PATCH and DELETE, `fetch` in `no-cors` mode and HTML forms included.
 */
export function requestOrigin(request: FastifyRequest): ClaimedOrigin {
  const origin = request.headers.origin;
  if (typeof origin === 'string' && origin !== '') return { from: 'origin', origin: origin.trim().toLowerCase() };
  const referer = request.headers.referer;
  if (typeof referer === 'string' && referer !== '') {
    try {
      return { from: 'referer', origin: new URL(referer).origin.toLowerCase() };
    } catch {
      return { from: 'referer', origin: 'null' };
    }
  }
  return { from: 'none' };
}

/** True when the request's `Content-Type` is `application/json` (parameters such as `charset` allowed). */
export function isJsonContentType(request: FastifyRequest): boolean {
  const value = request.headers['content-type'];
  if (typeof value !== 'string') return false;
  return value.split(';', 1)[0]?.trim().toLowerCase() === 'application/json';
}
