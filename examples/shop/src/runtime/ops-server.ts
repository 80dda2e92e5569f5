import { type HealthReporter, healthRoutes } from '@mailroom/http';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ShopTelemetry } from './shop-telemetry.js';

/**
 * A shop process's operations port, on loopback unless `host` says otherwise (`SHOP_OPS_HOST`): `GET /metrics` (Prometheus text format, what
 * Prometheus scrapes and what KEDA's Prometheus scaler reads), `GET /health/live` and
 * `GET /health/ready` (Kubernetes probes: ready while the process's endpoints are healthy).
 * Resolves with the listening server; its URL is `http://127.0.0.1:<port>`.
 */
export async function startOpsServer(
  telemetry: ShopTelemetry,
  endpoints: readonly HealthReporter[],
  port: number,
  host = '127.0.0.1',
): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(healthRoutes, { endpoints });
  app.get('/metrics', (request, reply) => {
    reply.hijack();
    telemetry.prometheus.getMetricsRequestHandler(request.raw, reply.raw);
  });
  await app.listen({ port, host });
  return app;
}
