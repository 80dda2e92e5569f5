import { type DeadLetter, ErrorCodes, HeaderNames, isMailroomError, type Transport } from '@mailroom/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { SERVICE_NAMES, TRACKER_ENDPOINT } from '../system.js';
import type { DeadLetterView, Faults, ServicesResponse, ServiceView } from './api-types.js';
import { type ControlClient, ControlError } from './control-client.js';
import type { InventoryClient } from './inventory-client.js';
import { ShopProblems, sendProblem } from './problems.js';

/** What the admin routes need. */
export interface AdminRoutesOptions {
  transport: Transport;
  control: ControlClient;
  inventory: InventoryClient;
}

function bodyOf(letter: DeadLetter): unknown {
  try {
    return JSON.parse(Buffer.from(letter.body).toString('utf8'));
  } catch {
    return undefined;
  }
}

function toView(letter: DeadLetter): DeadLetterView {
  return {
    id: letter.id,
    endpoint: letter.endpoint,
    type: letter.type,
    messageId: letter.messageId,
    correlationId: letter.headers[HeaderNames.correlationid] ?? letter.messageId,
    reason: letter.reason,
    errorMessage: letter.errorMessage,
    attempts: letter.attempts,
    deadLetteredAt: letter.deadLetteredAt.toISOString(),
    body: bodyOf(letter),
  };
}

function controlFailed(reply: FastifyReply, error: unknown): FastifyReply {
  const status = error instanceof ControlError ? error.statusCode : 502;
  return sendProblem(reply, status, ShopProblems.CONTROL_FAILED, error instanceof Error ? error.message : String(error));
}

/**
 * The operator's routes (closed: the gateway's operatorAuth needs a session or the token for every
 * one): `GET /services` (each service's processes from
 * the supervisor, its queue depth from `transport.queues()`, the breaker to inventory);
 * `POST /services/:name/stop|start`; `GET /dead-letters` and `POST /dead-letters/:id/replay`;
 * `GET|PUT /faults` (the poison switch).
 */
export async function adminRoutes(app: FastifyInstance, options: AdminRoutesOptions): Promise<void> {
  const { transport, control, inventory } = options;

  app.get('/services', async (_request, reply) => {
    let status: Awaited<ReturnType<ControlClient['status']>>;
    try {
      status = await control.status();
    } catch (error) {
      return controlFailed(reply, error);
    }
    const queues = await transport.queues();
    const services = status.services.map((service): ServiceView => {
      const endpoint = service.name === 'gateway' ? TRACKER_ENDPOINT : service.name;
      const queue = queues.find((candidate) => candidate.endpoint === endpoint);
      return {
        ...service,
        endpoint,
        queueDepth: queue?.depth,
        inFlight: queue?.inFlight,
        consumers: queue?.consumers,
        deadLetters: queue?.deadLetters ?? 0,
        stoppable: service.name !== 'gateway',
      };
    });
    return { services, breaker: inventory.breaker, faults: status.faults } satisfies ServicesResponse;
  });

  app.post<{ Params: { name: string; action: 'stop' | 'start' } }>(
    '/services/:name/:action',
    {
      schema: {
        params: {
          type: 'object',
          required: ['name', 'action'],
          properties: {
            name: { type: 'string', enum: SERVICE_NAMES.filter((name) => name !== 'gateway') },
            action: { type: 'string', enum: ['stop', 'start'] },
          },
        },
      },
    },
    async (request, reply) => {
      try {
        await control.setDesired(request.params.name, request.params.action === 'stop' ? 'stopped' : 'running');
      } catch (error) {
        return controlFailed(reply, error);
      }
      return reply.code(204).send();
    },
  );

  // The newest 100, newest first: one keyset page, however many dead letters there are.
  app.get('/dead-letters', async () => (await transport.deadLetters.page({ order: 'newest-first', limit: 100 })).letters.map(toView));

  app.post<{ Params: { id: string } }>(
    '/dead-letters/:id/replay',
    { schema: { params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } } } },
    async (request, reply) => {
      try {
        await transport.deadLetters.replay(request.params.id);
      } catch (error) {
        if (isMailroomError(error, ErrorCodes.DEAD_LETTER_NOT_FOUND)) return sendProblem(reply, 404, error.code, error.message);
        throw error;
      }
      return reply.code(204).send();
    },
  );

  app.get('/faults', async (_request, reply) => {
    try {
      return (await control.status()).faults;
    } catch (error) {
      return controlFailed(reply, error);
    }
  });

  app.put<{ Body: Faults }>(
    '/faults',
    { schema: { body: { type: 'object', additionalProperties: false, required: ['poison'], properties: { poison: { type: 'boolean' } } } } },
    async (request, reply) => {
      try {
        return await control.setFaults(request.body);
      } catch (error) {
        return controlFailed(reply, error);
      }
    },
  );
}
