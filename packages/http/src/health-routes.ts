import type { EndpointHealth, HealthOptions } from '@mailroom/core';
import { MailroomError } from '@mailroom/core';
import type { FastifyInstance } from 'fastify';
import { HttpErrorCodes } from './errors.js';

/** Something whose health decides readiness: an `Endpoint` (or an operation tracker's endpoint). */
export interface HealthReporter {
  health(options?: HealthOptions): Promise<EndpointHealth>;
}

/** A check of your own: resolves whether what it checks is usable, and why. */
export type ReadinessCheck = () => Promise<{ healthy: boolean; detail: string }> | { healthy: boolean; detail: string };

/** Options of {@link healthRoutes}. */
export interface HealthRoutesOptions {
  /** The endpoints this process runs: ready only while every one is healthy (see `endpoint.health()`). */
  endpoints?: readonly HealthReporter[];
  /** Checks of your own, by name; a check that throws counts as unhealthy. */
  checks?: Readonly<Record<string, ReadinessCheck>>;
  /** Passed to each `endpoint.health()`: the outbox lag beyond which an endpoint is not ready. Default 60 000 ms. */
  maxRelayLagMs?: number;
  /** Where the routes live. Default `/health` (`/health/live`, `/health/ready`). */
  prefix?: string;
}

/** The body of `/health/ready`. */
export interface ReadinessBody {
  readonly status: 'ready' | 'not-ready';
  readonly endpoints: readonly EndpointHealth[];
  readonly checks: Readonly<Record<string, { healthy: boolean; detail: string }>>;
}

/**
 * Kubernetes-style probes as Fastify routes: `GET /health/live` answers 200 while the process
 * serves requests (it depends on nothing else, so a broker outage never restarts the pod), and
 * `GET /health/ready` answers 200 while every endpoint is healthy (transport connected, consumer
 * running, outbox not lagging) and every check passes, else 503, with what was found in the body.
 * Answers are never cached.
 */
export async function healthRoutes(app: FastifyInstance, options: HealthRoutesOptions = {}): Promise<void> {
  const prefix = (options.prefix ?? '/health').replace(/\/+$/, '');
  if (!prefix.startsWith('/')) throw new MailroomError(HttpErrorCodes.HTTP_CONFIG, "healthRoutes: prefix must start with '/'");
  const endpoints = options.endpoints ?? [];
  const checks = Object.entries(options.checks ?? {});
  const healthOptions = options.maxRelayLagMs === undefined ? {} : { maxRelayLagMs: options.maxRelayLagMs };
  app.get(`${prefix}/live`, async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'live' };
  });
  app.get(`${prefix}/ready`, async (_request, reply) => {
    const [endpointHealth, checked] = await Promise.all([
      Promise.all(endpoints.map((endpoint) => endpoint.health(healthOptions))),
      Promise.all(
        checks.map(async ([name, check]) => {
          try {
            return [name, await check()] as const;
          } catch (error) {
            return [name, { healthy: false, detail: error instanceof Error ? error.message : String(error) }] as const;
          }
        }),
      ),
    ]);
    const ready = endpointHealth.every((health) => health.healthy) && checked.every(([, result]) => result.healthy);
    const body: ReadinessBody = { status: ready ? 'ready' : 'not-ready', endpoints: endpointHealth, checks: Object.fromEntries(checked) };
    return reply
      .code(ready ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(body);
  });
}
