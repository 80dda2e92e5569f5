import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Services, serviceAvailable, sleep, uniqueName, waitUntil } from '@mailroom/conformance';
import {
  connectTransport,
  createEndpoint,
  createEnvelope,
  type DeadLetter,
  defineEvent,
  type Endpoint,
  ErrorCodes,
  encodeJson,
  envelopeToHeaders,
  type Transport,
  UnrecoverableError,
} from '@mailroom/core';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ExitCodes } from '../src/exit-codes.js';
import { removeEndpoint } from './remove-endpoint.js';
import { mailroom } from './run-mailroom.js';

const dir = mkdtempSync(join(tmpdir(), 'mailroom-cli-dlq-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function adapterReady(name: string): Promise<boolean> {
  try {
    return typeof ((await import(name)) as { createTransportFromUrl?: unknown }).createTransportFromUrl === 'function';
  } catch {
    return false;
  }
}

async function ready(adapter: string, service: (typeof Services)[keyof typeof Services]): Promise<boolean> {
  if (!(await adapterReady(adapter))) {
    console.warn(`[mailroom] skipping CLI tests on ${service.name}: ${adapter} does not export createTransportFromUrl yet`);
    return false;
  }
  return serviceAvailable(service);
}

const transports = [
  { name: 'SQLite', url: join(dir, 'broker.db'), available: true },
  { name: 'RabbitMQ', url: 'amqp://guest:guest@127.0.0.1:5672', available: await ready('@mailroom/rabbitmq', Services.rabbitmq) },
  { name: 'NATS JetStream', url: 'nats://127.0.0.1:4222', available: await ready('@mailroom/nats', Services.nats) },
];

interface Handled {
  id: string;
  data: unknown;
}

async function poisonedEndpoint(url: string) {
  const type = uniqueName('cli.OrderPlaced');
  const OrderPlaced = defineEvent(type, { version: 1, schema: z.object({ orderId: z.string(), total: z.number() }) });
  const transport: Transport = await connectTransport(url);
  const endpointName = uniqueName('cli-billing');
  const state = { broken: true, handled: [] as Handled[] };
  const endpoint: Endpoint = createEndpoint({ name: endpointName, transport });
  endpoint.on(OrderPlaced, async (data, ctx) => {
    if (state.broken) throw new UnrecoverableError(`payment provider rejected order ${data.orderId}`);
    state.handled.push({ id: ctx.envelope.id, data });
  });
  await endpoint.start();
  const publishInvalid = (data: unknown) =>
    transport.publish({
      route: { kind: 'event', type },
      headers: envelopeToHeaders(createEnvelope({ type, dataversion: 1, source: 'urn:test' })),
      body: encodeJson(data),
    });
  const deadLetters = async () => transport.deadLetters.list({ endpoint: endpointName });
  const close = async () => {
    await endpoint.stop();
    try {
      await removeEndpoint(transport, url, endpointName, [type]);
    } finally {
      await transport.close();
    }
  };
  return { type, OrderPlaced, transport, endpoint, endpointName, state, publishInvalid, deadLetters, close };
}

/** The endpoint's dead letters once there are `count` of them (or whatever there is after 15 s). */
async function deadLettersOf(system: { deadLetters(): Promise<DeadLetter[]> }, count: number): Promise<DeadLetter[]> {
  let deadLetters = await system.deadLetters();
  for (const until = Date.now() + 15_000; deadLetters.length < count && Date.now() < until; deadLetters = await system.deadLetters()) await sleep(50);
  return deadLetters;
}

// Each test runs the CLI about eight times: allow for a busy machine.
describe.each(transports)('mailroom dlq on $name', ({ name, url, available }) => {
  it.runIf(available)(
    'lists poisoned messages grouped by reason, shows one, replays it (same id and body) and the endpoint handles it',
    async () => {
      const env = { MAILROOM_TRANSPORT: url };
      const system = await poisonedEndpoint(url);
      try {
        const published = await system.endpoint.publish(system.OrderPlaced, { orderId: 'o-1', total: 42 });
        await system.publishInvalid({ orderId: 'o-2', total: 'forty-two' });
        expect(await deadLettersOf(system, 2)).toHaveLength(2);

        const listed = await mailroom(['dlq', 'list', '--endpoint', system.endpointName, '--json'], { env });
        expect(listed.stderr).toBe('');
        expect(listed.code, listed.stderr).toBe(ExitCodes.OK);
        const list = JSON.parse(listed.stdout) as {
          total: number;
          groups: { reason: string; count: number; ids: string[] }[];
          deadLetters: { id: string; messageId: string }[];
        };
        expect(list.total).toBe(2);
        expect(list.groups.map((g) => g.reason).sort()).toEqual([ErrorCodes.CONTRACT_VALIDATION, ErrorCodes.HANDLER_UNRECOVERABLE].sort());
        const poisoned = list.groups.find((g) => g.reason === ErrorCodes.HANDLER_UNRECOVERABLE)?.ids[0] as string;
        const invalid = list.groups.find((g) => g.reason === ErrorCodes.CONTRACT_VALIDATION)?.ids[0] as string;
        expect(list.deadLetters.find((d) => d.id === poisoned)?.messageId).toBe(published.id);

        const filtered = await mailroom(['dlq', 'list', '--endpoint', system.endpointName, '--reason', ErrorCodes.HANDLER_UNRECOVERABLE, '--since', '1h'], {
          env,
        });
        expect(filtered.code, filtered.stderr).toBe(ExitCodes.OK);
        expect(filtered.stdout).toMatch(
          new RegExp(`^1 dead letter \\(endpoint ${system.endpointName}, since .*, reason ${ErrorCodes.HANDLER_UNRECOVERABLE}\\), 1 reason\n`),
        );
        expect(filtered.stdout).toContain(`${ErrorCodes.HANDLER_UNRECOVERABLE} (1)`);
        expect(filtered.stdout).toMatch(
          new RegExp(`\\n  ${poisoned}\\s+${system.endpointName}\\s+${system.type}\\s+${published.id}\\s+1\\s+\\S+Z\\s+payment provider rejected order o-1\\n`),
        );
        expect(filtered.stdout).not.toContain(ErrorCodes.CONTRACT_VALIDATION);

        const shown = await mailroom(['dlq', 'show', poisoned, '--json'], { env });
        expect(shown.code, shown.stderr).toBe(ExitCodes.OK);
        const detail = JSON.parse(shown.stdout) as { messageId: string; body: unknown; bodyEncoding: string; headers: Record<string, string> };
        expect(detail).toMatchObject({ messageId: published.id, bodyEncoding: 'json', body: { orderId: 'o-1', total: 42 } });
        expect(detail.headers['ce-type']).toBe(system.type);

        system.state.broken = false;
        const replayed = await mailroom(['dlq', 'replay', poisoned], { env });
        expect(replayed.stdout).toContain(`Replayed 1 dead letter: ${poisoned}`);
        expect(replayed.code, replayed.stderr).toBe(ExitCodes.OK);
        await waitUntil(
          () => system.state.handled.length > 0,
          15_000,
          () => 'the replayed message was not handled',
        );
        expect(system.state.handled).toEqual([{ id: published.id, data: { orderId: 'o-1', total: 42 } }]);

        const missing = await mailroom(['dlq', 'replay', poisoned], { env });
        expect(missing.code).toBe(ExitCodes.NOT_FOUND);
        expect(missing.stderr).toContain(ErrorCodes.DEAD_LETTER_NOT_FOUND);

        const refused = await mailroom(['dlq', 'purge', '--endpoint', system.endpointName], { env });
        expect(refused.code).toBe(ExitCodes.NOT_CONFIRMED);
        expect(refused.stderr).toContain('standard input is not a terminal');
        expect(await system.deadLetters()).toHaveLength(1);

        const purged = await mailroom(['dlq', 'purge', '--endpoint', system.endpointName, '--yes', '--json'], { env });
        expect(purged.code, purged.stderr).toBe(ExitCodes.OK);
        expect(JSON.parse(purged.stdout)).toEqual({ purged: 1, ids: [invalid], notFound: [] });
        expect(await system.deadLetters()).toHaveLength(0);
      } finally {
        await system.close();
      }
    },
    60_000,
  );

  it.runIf(available)(
    'replays every match of --all with filters, and shows the queues in topology',
    async () => {
      const env = { MAILROOM_TRANSPORT: url };
      const system = await poisonedEndpoint(url);
      try {
        const ids = [];
        for (let i = 0; i < 5; i++) ids.push((await system.endpoint.publish(system.OrderPlaced, { orderId: `o-${i}`, total: i })).id);
        expect(await deadLettersOf(system, 5)).toHaveLength(5);

        const topology = await mailroom(['topology', '--json'], { env });
        expect(topology.code, topology.stderr).toBe(ExitCodes.OK);
        const queue = (JSON.parse(topology.stdout) as { queues: { endpoint: string; deadLetters: number; events: string[] }[] }).queues.find(
          (q) => q.endpoint === system.endpointName,
        );
        expect(queue).toMatchObject({ deadLetters: 5, events: [system.type] });
        if (name === 'SQLite') {
          // The table is the same for every transport: check it once.
          const table = await mailroom(['topology'], { env });
          expect(table.stdout).toMatch(new RegExp(`\\n${system.endpointName}\\s+${system.endpointName}\\s+0\\s+0\\s+\\d+\\s+5\\s+${system.type}\\n`));
        }

        system.state.broken = false;
        const replayed = await mailroom(['dlq', 'replay', '--all', '--endpoint', system.endpointName, '--type', system.type, '--json'], { env });
        expect(replayed.code, replayed.stderr).toBe(ExitCodes.OK);
        expect((JSON.parse(replayed.stdout) as { replayed: string[] }).replayed).toHaveLength(5);
        await waitUntil(
          () => system.state.handled.length === 5,
          15_000,
          () => `handled ${system.state.handled.length} of 5`,
        );
        expect(system.state.handled.map((h) => h.id).sort()).toEqual(ids.sort());
        expect(await system.deadLetters()).toHaveLength(0);
      } finally {
        await system.close();
      }
    },
    60_000,
  );
});
