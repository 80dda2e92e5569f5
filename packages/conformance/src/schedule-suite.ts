import {
  createEndpoint,
  type Delivery,
  defineEvent,
  ErrorCodes,
  HeaderNames,
  isMailroomError,
  type MessageTransport,
  type OutgoingMessage,
} from '@mailroom/core';
import { describe, expect, it, type TestContext } from 'vitest';
import { createScope, numberSchema, type Scope, uniqueName, waitUntil } from './helpers.js';
import { testMessage } from './test-message.js';

/** How the schedule suite reaches the transport under test. */
export interface ScheduleSuiteOptions {
  /** Opens a new, independent connection to the broker under test (as a separate process would). */
  connect: () => Promise<MessageTransport>;
  /** Multiplies the suite's waiting times, for slow brokers. Default 1. */
  timeScale?: number;
  /**
   * What the suite allows beyond the transport's declared `delayPrecisionMs` for a message to travel
   * once it is due (publish, consumer wake-up, the event loop of a loaded machine). Default 1000 ms.
   */
  deliverySlackMs?: number;
}

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** An arrival: the delivery's message id and when (epoch ms) the consumer got it. */
interface Arrival {
  readonly id: string;
  readonly at: number;
}

/**
 * Registers the scheduled-messages suite (vitest): delivered not before `deliverAt` and at most
 * `delayPrecisionMs` (plus the travel slack) after it, `delayMs` and `deliverAt` equivalent, a past
 * time delivered now, invalid options and too-far delays refused with typed errors, cancellation
 * when the transport has `cancelScheduled`, and, on durable transports, a scheduled message that
 * outlives the connection that published it and is delivered once. Skipped for a transport that
 * declares no `maxScheduleDelayMs`. Part of `describeTransport`; callable on its own.
 */
export function describeScheduling(options: ScheduleSuiteOptions): void {
  const scale = options.timeScale ?? 1;
  const ms = (n: number) => Math.round(n * scale);
  const slack = options.deliverySlackMs ?? 1000;
  const test = (name: string, body: (scope: Scope, transport: MessageTransport, ctx: TestContext) => Promise<void>) =>
    it(name, async (ctx) => {
      const scope = createScope(options.connect, ctx);
      try {
        const transport = await scope.connect();
        if (!((transport.capabilities.maxScheduleDelayMs ?? 0) > 0)) ctx.skip();
        await body(scope, transport, ctx);
      } finally {
        await scope.dispose();
      }
    });

  /** Subscribes `endpoint` to `type`, acknowledging every delivery and recording when it came. */
  const record = async (transport: MessageTransport, endpoint: string, type: string, arrivals: Arrival[]) =>
    transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 8 }, async (delivery: Delivery) => {
      arrivals.push({ id: delivery.headers[HeaderNames.id] as string, at: Date.now() });
      await delivery.ack();
    });
  const scheduled = (type: string, deliverAt: Date): OutgoingMessage => ({ ...testMessage(type, json({ n: 1 })), deliverAt });
  const idOf = (message: OutgoingMessage) => message.headers[HeaderNames.id] as string;
  const arrived = (arrivals: Arrival[], id: string) => arrivals.find((a) => a.id === id);
  const waitForIds = (arrivals: Arrival[], ids: string[], timeoutMs: number) =>
    waitUntil(
      () => ids.every((id) => arrived(arrivals, id)),
      timeoutMs,
      () => `arrived ${arrivals.length}: ${JSON.stringify(arrivals)}`,
    );

  describe('scheduled messages', () => {
    test('declares maxScheduleDelayMs and a delayPrecisionMs', async (_scope, transport) => {
      expect(transport.capabilities.maxScheduleDelayMs).toBeGreaterThan(0);
      expect(transport.capabilities.delayPrecisionMs).toBeGreaterThanOrEqual(0);
    });

    test('delivers a scheduled message not before deliverAt and within delayPrecisionMs after it, to every subscriber', async (_scope, transport) => {
      const type = uniqueName('Scheduled');
      const a: Arrival[] = [];
      const b: Arrival[] = [];
      await record(transport, uniqueName('sched-a'), type, a);
      await record(transport, uniqueName('sched-b'), type, b);
      const deliverAt = new Date(Date.now() + 1500);
      const message = scheduled(type, deliverAt);
      await transport.publish(message);
      await waitForIds(a, [idOf(message)], ms(20_000));
      await waitForIds(b, [idOf(message)], ms(20_000));
      for (const arrival of [arrived(a, idOf(message)), arrived(b, idOf(message))]) {
        expect(arrival?.at).toBeGreaterThanOrEqual(deliverAt.getTime());
        expect((arrival?.at ?? 0) - deliverAt.getTime()).toBeLessThanOrEqual(transport.capabilities.delayPrecisionMs + ms(slack));
      }
    });

    test('hands a scheduled message over as attempt 1 once due, and counts its retries from there', async (_scope, transport) => {
      const type = uniqueName('ScheduledAttempt');
      const attempts: number[] = [];
      await transport.subscribe({ endpoint: uniqueName('sched-attempt'), events: [type], commands: [], concurrency: 1 }, async (delivery) => {
        attempts.push(delivery.attempt);
        if (delivery.attempt === 1) await delivery.retry(0, { reason: ErrorCodes.HANDLER_FAILED, errorMessage: 'once more' });
        else await delivery.ack();
      });
      await transport.publish(scheduled(type, new Date(Date.now() + 1000)));
      await waitUntil(
        () => attempts.length >= 2,
        ms(20_000),
        () => `attempts ${attempts}`,
      );
      expect(attempts).toEqual([1, 2]);
    });

    test('delivers a scheduled command to its destination, which need not have started yet, not before deliverAt', async (_scope, transport) => {
      const type = uniqueName('ScheduledCommand');
      const owner = uniqueName('sched-owner');
      const deliverAt = new Date(Date.now() + 1200);
      const command: OutgoingMessage = { ...testMessage(type, json({ n: 1 }), {}, owner), deliverAt };
      await transport.publish(command);
      const arrivals: Arrival[] = [];
      await transport.subscribe({ endpoint: owner, events: [], commands: [type], concurrency: 1 }, async (delivery) => {
        arrivals.push({ id: delivery.headers[HeaderNames.id] as string, at: Date.now() });
        await delivery.ack();
      });
      await waitForIds(arrivals, [idOf(command)], ms(20_000));
      expect(arrived(arrivals, idOf(command))?.at).toBeGreaterThanOrEqual(deliverAt.getTime());
    });

    test('treats delayMs and deliverAt alike, and delivers a message scheduled in the past at once', async (_scope, transport) => {
      const name = uniqueName('sched-ep');
      const Ticked = defineEvent(uniqueName('Ticked'), { version: 1, schema: numberSchema() });
      const arrivals = new Map<number, number>();
      const endpoint = createEndpoint({ name, transport, telemetry: false }).on(Ticked, (message) => {
        arrivals.set(message.n, Date.now());
      });
      await endpoint.start();
      try {
        const start = Date.now();
        const byDelay = await endpoint.publish(Ticked, { n: 1 }, { delayMs: 1200 });
        const byDate = await endpoint.publish(Ticked, { n: 2 }, { deliverAt: new Date(start + 1200) });
        const past = await endpoint.publish(Ticked, { n: 3 }, { deliverAt: new Date(start - 3_600_000) });
        expect([byDelay.id, byDate.id, past.id].every((id) => typeof id === 'string')).toBe(true);
        await waitUntil(
          () => arrivals.size === 3,
          ms(20_000),
          () => `arrived ${[...arrivals.keys()]}`,
        );
        expect(arrivals.get(1)).toBeGreaterThanOrEqual(start + 1200);
        expect(arrivals.get(2)).toBeGreaterThanOrEqual(start + 1200);
        // The past one was due at once: it came within the precision of a due message, before the other two.
        expect((arrivals.get(3) ?? 0) - start).toBeLessThanOrEqual(transport.capabilities.delayPrecisionMs + ms(slack));
        expect(arrivals.get(3)).toBeLessThan(arrivals.get(1) ?? 0);
      } finally {
        await endpoint.stop({ timeoutMs: 1000 });
      }
    });

    test('refuses invalid scheduling options and delays beyond maxScheduleDelayMs with typed errors, sending nothing', async (_scope, transport) => {
      const type = uniqueName('Refused');
      const arrivals: Arrival[] = [];
      const name = uniqueName('sched-bad');
      await record(transport, name, type, arrivals);
      const Refused = defineEvent(type, { version: 1, schema: numberSchema() });
      const endpoint = createEndpoint({ name: uniqueName('sched-pub'), transport, telemetry: false });
      const invalid = [
        { delayMs: 10, deliverAt: new Date() },
        { delayMs: -1 },
        { delayMs: Number.NaN },
        { delayMs: Number.POSITIVE_INFINITY },
        { deliverAt: new Date(Number.NaN) },
        { deliverAt: '2030-01-01' as unknown as Date },
      ];
      for (const schedule of invalid) {
        await expect(endpoint.publish(Refused, { n: 1 }, schedule), JSON.stringify(schedule)).rejects.toSatisfy((e) =>
          isMailroomError(e, ErrorCodes.SCHEDULE_INVALID),
        );
      }
      const max = transport.capabilities.maxScheduleDelayMs ?? 0;
      await expect(endpoint.publish(Refused, { n: 1 }, { delayMs: max + 60_000 })).rejects.toSatisfy((e) => isMailroomError(e, ErrorCodes.SCHEDULE_TOO_FAR));
      await expect(endpoint.publish(Refused, { n: 1 }, { deliverAt: new Date(Date.now() + max + 60_000) })).rejects.toSatisfy((e) =>
        isMailroomError(e, ErrorCodes.SCHEDULE_TOO_FAR),
      );
      // A marker published afterwards arrives alone: nothing refused was sent.
      const marker = await endpoint.publish(Refused, { n: 2 });
      await waitForIds(arrivals, [marker.id], ms(10_000));
      expect(arrivals.map((a) => a.id)).toEqual([marker.id]);
    });

    test('cancels a scheduled message before it is due (when the transport can), or says it cannot', async (_scope, transport) => {
      const endpoint = createEndpoint({ name: uniqueName('sched-cancel-ep'), transport, telemetry: false });
      if (typeof transport.cancelScheduled !== 'function') {
        await expect(endpoint.cancelScheduled('any-id')).rejects.toSatisfy((e) => isMailroomError(e, ErrorCodes.TRANSPORT_UNSUPPORTED));
        return;
      }
      const type = uniqueName('Cancelled');
      const arrivals: Arrival[] = [];
      await record(transport, uniqueName('sched-cancel-a'), type, arrivals);
      await record(transport, uniqueName('sched-cancel-b'), type, arrivals);
      const start = Date.now();
      const cancelled = scheduled(type, new Date(start + 1500));
      const kept = scheduled(type, new Date(start + 2500));
      await transport.publish(cancelled);
      await transport.publish(kept);
      expect(await endpoint.cancelScheduled(idOf(cancelled))).toBe(true);
      expect(await transport.cancelScheduled(idOf(cancelled))).toBe(false);
      expect(await transport.cancelScheduled(uniqueName('unknown-id'))).toBe(false);
      // The kept message, due after the cancelled one, reaches both subscribers; the cancelled one reached none.
      await waitUntil(
        () => arrivals.filter((a) => a.id === idOf(kept)).length === 2,
        ms(20_000),
        () => JSON.stringify(arrivals),
      );
      expect(arrivals.filter((a) => a.id === idOf(cancelled))).toEqual([]);
      // Once delivered, a message can no longer be cancelled.
      expect(await transport.cancelScheduled(idOf(kept))).toBe(false);
    });

    test('keeps a scheduled message when the publishing connection closes, and delivers it once after reopening', async (scope, transport, ctx) => {
      if (!transport.capabilities.durable) ctx.skip();
      const endpoint = uniqueName('sched-restart');
      const type = uniqueName('Survives');
      // Declare the queue and its binding, then go away, as a process that stops would.
      const first = await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async (d) => d.ack());
      await first.close();
      const start = Date.now();
      const message = scheduled(type, new Date(start + 1500));
      const marker = scheduled(type, new Date(start + 2500));
      await transport.publish(message);
      await transport.publish(marker);
      await transport.close();
      const reopened = await scope.connect();
      const arrivals: Arrival[] = [];
      await record(reopened, endpoint, type, arrivals);
      await waitForIds(arrivals, [idOf(message), idOf(marker)], ms(20_000));
      expect(arrived(arrivals, idOf(message))?.at).toBeGreaterThanOrEqual(start + 1500);
      expect(arrivals.filter((a) => a.id === idOf(message))).toHaveLength(1);
    });
  });
}
