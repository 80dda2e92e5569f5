import { randomUUID } from 'node:crypto';
import { Services, serviceAvailable, testMessage, uniqueName } from '@mailroom/conformance';
import { ErrorCodes, HeaderNames, isMailroomError, type Transport } from '@mailroom/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createNatsTransport } from '../src/index.js';
import { deleteStreams, uniquePrefix } from './helpers.js';
import { findServerPid, killServer, portAnswers, startServer } from './nats-server-control.js';

const TOTAL = 20_000;
const PUBLISH_WINDOW = 64;
const prefix = uniquePrefix('restart');
const available = await serviceAvailable(Services.nats);

// Disruptive (it kills the shared server): Vitest runs it after every other file, alone.
describe.runIf(available)('NATS JetStream', () => {
  describeNatsRestart();
});

/**
 * Registers the restart test: the local server is SIGKILLed at 1/3 of a 20k run and restarted with
 * the machine's start command. Skipped (one line) when no local nats-server serves port 4222.
 */
function describeNatsRestart(): void {
  const pid = findServerPid();
  if (pid === undefined) console.warn('[mailroom] skipping the NATS restart test: no local nats-server process serves port 4222 to restart');
  describe.runIf(pid !== undefined)('NATS JetStream server restart', () => {
    afterAll(async () => {
      // Whatever happened, leave the shared server running.
      await startServer();
      await deleteStreams(prefix);
    });

    it(`loses nothing when the server is killed and restarted at 1/3 of ${TOTAL} messages`, { timeout: 120_000 }, async () => {
      const options = { prefix, ackWaitMs: 5000, publishTimeoutMs: 60_000, connectOptions: { reconnectTimeWait: 250 } };
      const transports: Transport[] = [];
      try {
        const publisher = await createNatsTransport(options);
        const consumer = await createNatsTransport(options);
        const impatient = await createNatsTransport({ ...options, publishTimeoutMs: 300 });
        transports.push(publisher, consumer, impatient);
        const endpoint = uniqueName('restart');
        const type = uniqueName('Survives');
        const deliveries = new Map<string, number>();
        let firstAfterRestart: number | undefined;
        let restartedAt: number | undefined;
        await consumer.subscribe({ endpoint, events: [type], commands: [], concurrency: 32 }, async (delivery) => {
          const id = delivery.headers[HeaderNames.id] as string;
          deliveries.set(id, (deliveries.get(id) ?? 0) + 1);
          if (restartedAt !== undefined && firstAfterRestart === undefined) firstAfterRestart = performance.now();
          // During the outage the ack fails; the message comes back and counts as a duplicate.
          await delivery.ack().catch(() => undefined);
        });

        const confirmed = new Set<string>();
        const failed: unknown[] = [];
        let killedAt: number | undefined;
        let outageError: unknown;
        const restart = (async () => {
          while (confirmed.size < TOTAL / 3) await new Promise((resolve) => setTimeout(resolve, 5));
          killedAt = performance.now();
          await killServer(pid as number);
          // A publish during the outage waits for publishTimeoutMs, then fails with a typed error.
          outageError = await impatient.publish(testMessage(type, new Uint8Array([1]))).catch((error: unknown) => error);
          await startServer();
          restartedAt = performance.now();
        })();
        const started = performance.now();
        let next = 0;
        await Promise.all(
          Array.from({ length: PUBLISH_WINDOW }, async () => {
            while (next < TOTAL) {
              const message = testMessage(type, new TextEncoder().encode(JSON.stringify({ n: next++, pad: randomUUID() })));
              try {
                await publisher.publish(message);
                confirmed.add(message.headers[HeaderNames.id] as string);
              } catch (error) {
                failed.push(error);
              }
            }
          }),
        );
        await restart;
        const deadline = Date.now() + 60_000;
        while ([...confirmed].some((id) => !deliveries.has(id)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
        const finished = performance.now();
        const lost = [...confirmed].filter((id) => !deliveries.has(id)).length;
        const duplicates = [...deliveries.values()].reduce((sum, count) => sum + count - 1, 0);
        console.log(
          `[nats restart] ${TOTAL} messages, server SIGKILLed after ${Math.round((((killedAt as number) - started) / 1000) * 10) / 10} s ` +
            `and answering again ${Math.round((restartedAt as number) - (killedAt as number))} ms later; ` +
            `first delivery ${Math.round((firstAfterRestart ?? Number.NaN) - (restartedAt as number))} ms after it answered; ` +
            `confirmed ${confirmed.size}, failed publishes ${failed.length}, lost ${lost}, duplicates ${duplicates}, total ${Math.round((finished - started) / 100) / 10} s`,
        );
        expect(isMailroomError(outageError, ErrorCodes.TRANSPORT_UNAVAILABLE), String(outageError)).toBe(true);
        expect(failed).toEqual([]);
        expect(confirmed.size).toBe(TOTAL);
        expect(lost).toBe(0);
      } finally {
        await Promise.all(transports.map((t) => t.close()));
        if (!(await portAnswers())) await startServer();
      }
    });
  });
}
