// A small system whose one endpoint dead-letters messages of three kinds, each failing its own way,
// on any transport: what the console's API and browser tests act on. Transports on a shared broker
// get a namespace (RabbitMQ) or prefix (NATS) of their own, so the console sees only these letters.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Services, serviceAvailable, uniqueName } from '@mailroom/conformance';
import {
  createEndpoint,
  createEnvelope,
  defineCommand,
  defineEvent,
  defineSystem,
  type Endpoint,
  encodeJson,
  envelopeToHeaders,
  type System,
  type Transport,
  UnrecoverableError,
} from '@mailroom/core';
import { z } from 'zod';

/** A transport the console tests run on, and how to make (and clean up) an isolated one. */
export interface TransportCase {
  readonly name: string;
  readonly available: boolean;
  /** Makes a fresh, isolated transport factory (every call of `connect` reaches the same broker space). */
  isolate(): { connect: () => Promise<Transport>; cleanUp: () => Promise<void> };
}

const required = process.env.CI !== undefined;

async function available(service: (typeof Services)[keyof typeof Services]): Promise<boolean> {
  const up = await serviceAvailable(service);
  if (!up && required) throw new Error(`${service.name} is required when CI is set`);
  return up;
}

/** SQLite (always), RabbitMQ and NATS JetStream (when their brokers answer; required when CI is set). */
export async function transportCases(): Promise<TransportCase[]> {
  return [
    {
      name: 'SQLite',
      available: true,
      isolate() {
        const dir = mkdtempSync(join(tmpdir(), 'mailroom-console-'));
        return {
          connect: async () => (await import('@mailroom/sqlite')).createSqliteTransport({ path: join(dir, 'broker.db') }),
          cleanUp: async () => rmSync(dir, { recursive: true, force: true }),
        };
      },
    },
    {
      name: 'RabbitMQ',
      available: await available(Services.rabbitmq),
      isolate() {
        const namespace = uniqueName('mailroom-test-console');
        return {
          connect: async () => (await import('@mailroom/rabbitmq')).createRabbitMqTransport({ url: 'amqp://guest:guest@127.0.0.1:5672', namespace }),
          cleanUp: async () => (await import('../../rabbitmq/test/support.js')).deleteNamespace(namespace),
        };
      },
    },
    {
      name: 'NATS',
      available: await available(Services.nats),
      isolate() {
        const prefix = `tconsole${Math.random().toString(16).slice(2, 10)}`;
        return {
          connect: async () => (await import('@mailroom/nats')).createNatsTransport({ servers: '127.0.0.1:4222', prefix, ackWaitMs: 5000 }),
          cleanUp: async () => (await import('../../nats/test/helpers.js')).deleteStreams(prefix),
        };
      },
    },
  ];
}

/** The three ways messages fail, and what the endpoint handled once they no longer do. */
export interface PoisonedSystem {
  readonly system: System;
  readonly endpointName: string;
  readonly types: { readonly order: string; readonly ship: string; readonly refund: string };
  /** `order` messages fail while this is true ("payment provider rejected order N"). */
  readonly state: { ordersBroken: boolean };
  /** Every message handled successfully, by type. */
  readonly handled: Map<string, unknown[]>;
  /** Publishes `orders` OrderPlaced (failing in the handler), `ships` ShipOrder without an address (failing in the handler) and `refunds` invalid RefundIssued (failing validation). */
  poison(counts: { orders: number; ships: number; refunds: number }): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the poisoned endpoint on `transport`. */
export async function startPoisonedSystem(transport: Transport): Promise<PoisonedSystem> {
  const endpointName = uniqueName('console-billing');
  const OrderPlaced = defineEvent(uniqueName('console.OrderPlaced'), { version: 1, schema: z.object({ orderId: z.number(), total: z.number() }) });
  const ShipOrder = defineCommand(uniqueName('console.ShipOrder'), {
    version: 1,
    owner: endpointName,
    schema: z.object({ orderId: z.number(), address: z.string() }),
  });
  const RefundIssued = defineEvent(uniqueName('console.RefundIssued'), {
    version: 1,
    schema: z.object({ orderId: z.number(), amount: z.number().positive() }),
  });
  const state = { ordersBroken: true };
  const handled = new Map<string, unknown[]>();
  const record = (type: string, data: unknown) => handled.set(type, [...(handled.get(type) ?? []), data]);
  const endpoint: Endpoint = createEndpoint({ name: endpointName, transport, recoverability: { immediateRetries: 0, delayedRetries: 0 } });
  endpoint.on(OrderPlaced, async (data) => {
    if (state.ordersBroken) throw new UnrecoverableError(`payment provider rejected order ${data.orderId}`);
    record(OrderPlaced.type, data);
  });
  endpoint.on(ShipOrder, async (data) => {
    if (data.address.trim() === '') throw new UnrecoverableError(`no shipping address for order ${data.orderId}`);
    record(ShipOrder.type, data);
  });
  endpoint.on(RefundIssued, async (data) => record(RefundIssued.type, data));
  await endpoint.start();
  const system = defineSystem({ endpoints: [{ name: endpointName, consumes: [OrderPlaced, ShipOrder, RefundIssued], publishes: [], sends: [] }] });
  const publish = (kind: 'event' | 'command', type: string, data: unknown) =>
    transport.publish({
      route: kind === 'event' ? { kind, type } : { kind, type, destination: endpointName },
      headers: envelopeToHeaders(createEnvelope({ type, dataversion: 1, source: 'urn:console-test' })),
      body: encodeJson(data),
    });
  return {
    system,
    endpointName,
    types: { order: OrderPlaced.type, ship: ShipOrder.type, refund: RefundIssued.type },
    state,
    handled,
    async poison({ orders, ships, refunds }) {
      for (let i = 0; i < orders; i++) await publish('event', OrderPlaced.type, { orderId: 1000 + i, total: 10 + i });
      for (let i = 0; i < ships; i++) await publish('command', ShipOrder.type, { orderId: 2000 + i, address: '' });
      // Invalid on purpose: a negative amount fails the contract before any handler runs.
      for (let i = 0; i < refunds; i++) await publish('event', RefundIssued.type, { orderId: 3000 + i, amount: -i - 1 });
    },
    stop: () => endpoint.stop(),
  };
}
