import type { Endpoint, Logger, Transport } from '@mailroom/core';
import { mailroomFastify, type OperationStore, operationRoutes } from '@mailroom/http';
import Fastify, { type FastifyInstance } from 'fastify';
import type { shopOperations } from '../operations.js';
import { adminRoutes } from './admin-routes.js';
import type { SystemInfo } from './api-types.js';
import { catalogRoutes } from './catalog-routes.js';
import type { ControlClient } from './control-client.js';
import type { InventoryClient } from './inventory-client.js';
import { orderRoutes } from './order-routes.js';
import { uiFiles } from './ui-files.js';

/** What the gateway's HTTP app is made of. */
export interface GatewayAppOptions {
  transport: Transport;
  endpoint: Endpoint<unknown>;
  store: OperationStore;
  operations: ReturnType<typeof shopOperations>;
  inventory: InventoryClient;
  control: ControlClient;
  system: SystemInfo;
  uiDirectory: string;
  logger: Logger;
}

/**
 * The gateway's Fastify app: the Mailroom conventions (correlation ids, problem+json, `202 Accepted`),
 * the API under `/api` (orders in two versions, operations with their SSE stream, catalog and
 * quotes, services, dead letters, faults) and the web UI at `/`.
 */
export async function buildGatewayApp(options: GatewayAppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, ajv: { customOptions: { allErrors: true } } });
  await app.register(mailroomFastify, { operationsPath: '/api/operations' });
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode >= 500)
      options.logger.warn({ status: reply.statusCode, correlationId: request.correlationId }, `${request.method} ${request.url} failed`);
  });
  app.addHook('onError', async (request, _reply, error) => {
    options.logger.error({ err: error, correlationId: request.correlationId }, `${request.method} ${request.url} threw`);
  });
  await app.register(
    async (api) => {
      await api.register(operationRoutes, { prefix: '/operations', store: options.store, pollIntervalMs: 500, heartbeatMs: 10_000 });
      await orderRoutes(api, options);
      await catalogRoutes(api, options);
      await adminRoutes(api, options);
    },
    { prefix: '/api' },
  );
  await uiFiles(app, options.uiDirectory);
  return app;
}
