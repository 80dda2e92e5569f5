import type { FastifyInstance } from 'fastify';
import type { ConsoleContext } from '../console-context.js';
import { layoutGraph } from '../graph-layout.js';

/** Read-only routes about the system: overview, endpoints and queues, the choreography graph, the audit trail. */
export async function systemRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get('/api/overview', async () => ({
    transport: ctx.transport.name,
    health: ctx.transport.health?.(),
    systemKnown: ctx.system !== undefined,
    contracts: ctx.system?.contracts.length ?? 0,
    endpoints: ctx.system?.endpoints.map((endpoint) => endpoint.name) ?? [],
  }));

  app.get('/api/endpoints', async () => ({ queues: await ctx.transport.queues(), heartbeats: ctx.instances?.instances() ?? [] }));

  app.get('/api/graph', async () => (ctx.system === undefined ? { known: false } : { known: true, layout: layoutGraph(ctx.system) }));

  app.get<{ Querystring: { limit?: string } }>('/api/audit', async (request) => ({
    entries: ctx.audit.list(Math.min(Number(request.query.limit ?? 200) || 200, 1000)),
  }));
}
