import { randomBytes, randomUUID } from 'node:crypto';
import {
  createEndpoint,
  type Delivery,
  defineEvent,
  ErrorCodes,
  HeaderNames,
  hasTransportAdmin,
  isMailroomError,
  type MessageTransport,
  type OutgoingMessage,
  UnrecoverableError,
} from '@mailroom/core';
import { afterAll, describe, expect, it, type TestContext } from 'vitest';
import { type ChildConnection, runChildTransport } from './child-transport.js';
import { runPagingErrors, runPagingFilters, runPagingOrder, runPagingUnderInserts } from './dead-letter-paging-suite.js';
import { createScope, numberSchema, pollFor, type Scope, sleep, uniqueName, waitUntil } from './helpers.js';
import { type RawAccess, runCrashLoopBound, runHostileCorpus, runRetryLoopBound } from './hostile-suite.js';
import { describeScheduling, type ScheduleSuiteOptions } from './schedule-suite.js';
import { testMessage } from './test-message.js';

export { testMessage };

/** How the suite reaches the transport under test. */
export interface TransportSuiteOptions {
  /** Shown in test names. */
  name: string;
  /** Opens a new, independent connection to the broker under test (as a separate process would). */
  connect: () => Promise<MessageTransport>;
  /**
   * Reaches the broker without the transport: the hostile-message tests put raw messages into
   * endpoint queues through it, as a foreign or hostile producer could.
   */
  raw: RawAccess;
  /**
   * How a separate Node process connects to the same broker (through `connectTransport`). Required
   * when the transport declares `crossProcess`: the suite then proves it with a child process.
   */
  childProcess?: ChildConnection;
  /** What the schedule suite allows beyond `delayPrecisionMs` for a due message to travel; see {@link ScheduleSuiteOptions}. */
  deliverySlackMs?: number;
  /** Runs once after every test of the suite. */
  teardown?: () => Promise<void>;
  /** Multiplies the suite's waiting times, for slow brokers. Default 1. */
  timeScale?: number;
  /** How many copies of the stress group run in parallel. Default 4; 0 skips it. */
  stressParallelism?: number;
  /**
   * Stress mode: how many extra copies of the whole suite run concurrently after the normal run.
   * Default: the `MAILROOM_CONFORMANCE_STRESS` environment variable, else 0.
   */
  stressRounds?: number;
}

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** What a busy CI machine may add to a delay on top of a transport's declared precision (event loop, fsync). */
const LOADED_MACHINE_ALLOWANCE_MS = 1000;

/**
 * Registers the universal transport suite (vitest): every transport must pass it, and each
 * capability it declares is checked. Modelled on Watermill's Pub/Sub tests.
 */
export function describeTransport(options: TransportSuiteOptions): void {
  afterAll(async () => {
    await options.teardown?.();
  });
  const rounds = options.stressRounds ?? Number(process.env.MAILROOM_CONFORMANCE_STRESS ?? 0);
  describe(`transport conformance: ${options.name}`, () => {
    registerTests(options);
    describeScheduling(options);
  });
  if (rounds > 0) {
    describe.concurrent(`transport conformance stress: ${options.name}, ${rounds} copies of the suite in parallel`, () => {
      for (let round = 1; round <= rounds; round++) describe(`copy ${round}`, () => registerTests({ ...options, stressParallelism: 0 }));
    });
  }
}

/** A test body with its own connections, closed (after its clean-up steps) when it ends. */
type ScopedTest = (scope: Scope, ctx: TestContext) => Promise<void>;

function registerTests(options: TransportSuiteOptions): void {
  const scale = options.timeScale ?? 1;
  const ms = (n: number) => Math.round(n * scale);
  const test = (name: string, body: ScopedTest, timeoutMs?: number) =>
    it(
      name,
      async (ctx) => {
        const scope = createScope(options.connect, ctx);
        try {
          await body(scope, ctx);
        } finally {
          await scope.dispose();
        }
      },
      timeoutMs,
    );

  {
    test('declares its capabilities', async (scope) => {
      const transport = await scope.connect();
      const { capabilities } = transport;
      expect(typeof transport.name).toBe('string');
      for (const key of ['durable', 'crossProcess', 'delayedRetry', 'deadLetterQueue'] as const) expect(typeof capabilities[key]).toBe('boolean');
      expect(capabilities.delayPrecisionMs).toBeGreaterThanOrEqual(0);
    });

    test('has the management part (TransportAdmin: deadLetters, queues) when it declares deadLetterQueue', async (scope, ctx) => {
      const transport = await scope.connect();
      if (!transport.capabilities.deadLetterQueue) ctx.skip('declares no deadLetterQueue: the management part is optional');
      expect(hasTransportAdmin(transport)).toBe(true);
    });

    test('round-trips 100 messages with headers, unicode and binary bodies intact', async (scope) => {
      const transport = await scope.connect();
      const endpoint = uniqueName('rt');
      const type = uniqueName('RoundTrip');
      const received = new Map<string, Delivery>();
      await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 16 }, async (delivery) => {
        received.set(delivery.headers[HeaderNames.id] as string, delivery);
        await delivery.ack();
      });
      const sent: OutgoingMessage[] = [];
      for (let i = 0; i < 100; i++) {
        const body =
          i % 3 === 0
            ? new Uint8Array(randomBytes(1 + i * 7))
            : i % 3 === 1
              ? json({ i, text: 'héllo wörld ✓ 𝄞 日本語', zero: '\u0000' })
              : new Uint8Array([0, 255, 0xc3, 0x28, i]);
        sent.push(testMessage(type, body, { 'x-unicode': `ünïcødé ✓ ${i} 日本`, 'x-empty-ish': ' ', 'x-index': String(i) }));
      }
      await Promise.all(sent.map((message) => transport.publish(message)));
      await waitUntil(
        () => received.size === 100,
        ms(15_000),
        () => `received ${received.size}/100`,
      );
      for (const message of sent) {
        const delivery = received.get(message.headers[HeaderNames.id] as string);
        expect(delivery, 'every message arrives').toBeDefined();
        expect(delivery?.headers).toEqual(message.headers);
        expect(Buffer.from(delivery?.body ?? []).equals(Buffer.from(message.body))).toBe(true);
        expect(delivery?.attempt).toBe(1);
        expect(delivery?.firstFailureAt).toBeUndefined();
      }
    });

    test('fans an event out to every subscribed endpoint, once each', async (scope) => {
      const transport = await scope.connect();
      const type = uniqueName('FanOut');
      const a = uniqueName('fan-a');
      const b = uniqueName('fan-b');
      const got: Record<string, string[]> = { [a]: [], [b]: [] };
      for (const endpoint of [a, b]) {
        await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 4 }, async (delivery) => {
          got[endpoint]?.push(delivery.headers[HeaderNames.id] as string);
          await delivery.ack();
        });
      }
      const messages = Array.from({ length: 10 }, () => testMessage(type, json({ ok: true })));
      for (const message of messages) await transport.publish(message);
      await waitUntil(
        () => got[a]?.length === 10 && got[b]?.length === 10,
        ms(10_000),
        () => `a=${got[a]?.length} b=${got[b]?.length}`,
      );
      await sleep(ms(200));
      const ids = messages.map((m) => m.headers[HeaderNames.id]).sort();
      expect([...(got[a] ?? [])].sort()).toEqual(ids);
      expect([...(got[b] ?? [])].sort()).toEqual(ids);
    });

    test('routes a command only to its destination, which need not have started yet', async (scope) => {
      const transport = await scope.connect();
      const type = uniqueName('DoThing');
      const owner = uniqueName('owner');
      const bystander = uniqueName('bystander');
      const message = testMessage(type, json({ n: 1 }), {}, owner);
      await transport.publish(message);
      const got: string[] = [];
      await transport.subscribe({ endpoint: bystander, events: [type], commands: [], concurrency: 1 }, async (d) => {
        got.push(`bystander:${d.headers[HeaderNames.id]}`);
        await d.ack();
      });
      await transport.subscribe({ endpoint: owner, events: [], commands: [type], concurrency: 1 }, async (d) => {
        got.push(`owner:${d.headers[HeaderNames.id]}`);
        await d.ack();
      });
      await waitUntil(
        () => got.length >= 1,
        ms(10_000),
        () => 'command not delivered',
      );
      await sleep(ms(200));
      expect(got).toEqual([`owner:${message.headers[HeaderNames.id]}`]);
    });

    test('gives each message to exactly one of several competing consumers', async (scope) => {
      const publisher = await scope.connect();
      const endpoint = uniqueName('compete');
      const type = uniqueName('Work');
      const seen: Record<string, number> = {};
      const byConsumer = [0, 0];
      for (const index of [0, 1]) {
        const connection = await scope.connect();
        await connection.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async (delivery) => {
          const id = delivery.headers[HeaderNames.id] as string;
          seen[id] = (seen[id] ?? 0) + 1;
          byConsumer[index] = (byConsumer[index] ?? 0) + 1;
          await sleep(5);
          await delivery.ack();
        });
      }
      const messages = Array.from({ length: 60 }, () => testMessage(type, json({})));
      await Promise.all(messages.map((m) => publisher.publish(m)));
      await waitUntil(
        () => Object.keys(seen).length === 60,
        ms(20_000),
        () => `handled ${Object.keys(seen).length}/60`,
      );
      await sleep(ms(300));
      expect(Object.values(seen).every((count) => count === 1)).toBe(true);
      expect(byConsumer[0], 'both consumers share the work').toBeGreaterThan(0);
      expect(byConsumer[1], 'both consumers share the work').toBeGreaterThan(0);
    });

    test('removes an acknowledged message for good', async (scope) => {
      const transport = await scope.connect();
      const endpoint = uniqueName('ack');
      const type = uniqueName('Acked');
      let deliveries = 0;
      const subscription = await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async (d) => {
        deliveries += 1;
        await d.ack();
      });
      await transport.publish(testMessage(type, json({})));
      await waitUntil(() => deliveries === 1, ms(10_000));
      await subscription.close();
      const again = await scope.connect();
      await again.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async (d) => {
        deliveries += 1;
        await d.ack();
      });
      await sleep(ms(500));
      expect(deliveries).toBe(1);
      // The queue depth only where the transport has the management part.
      if (hasTransportAdmin(again)) {
        const info = (await again.queues()).find((q) => q.endpoint === endpoint);
        expect(info?.depth ?? 0).toBe(0);
      }
    });

    test('redelivers a retried message with attempt + 1 and the first failure time', async (scope) => {
      const transport = await scope.connect();
      const endpoint = uniqueName('retry');
      const type = uniqueName('Retried');
      const attempts: Delivery[] = [];
      const before = Date.now();
      await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async (d) => {
        attempts.push(d);
        if (attempts.length < 3) await d.retry(0, { reason: ErrorCodes.HANDLER_FAILED, errorMessage: 'try again' });
        else await d.ack();
      });
      const message = testMessage(type, json({ retry: true }), { 'x-keep': 'me' });
      await transport.publish(message);
      await waitUntil(
        () => attempts.length === 3,
        ms(10_000),
        () => `attempts ${attempts.length}`,
      );
      expect(attempts.map((d) => d.attempt)).toEqual([1, 2, 3]);
      expect(attempts[0]?.firstFailureAt).toBeUndefined();
      const first = attempts[1]?.firstFailureAt?.getTime() ?? 0;
      expect(first).toBeGreaterThanOrEqual(before - 1000);
      expect(attempts[2]?.firstFailureAt?.getTime()).toBe(first);
      for (const d of attempts) {
        expect(d.headers).toEqual(message.headers);
        expect(Buffer.from(d.body).equals(Buffer.from(message.body))).toBe(true);
      }
    });

    test('keeps a delayed retry away for at least its delay, and no longer than its declared precision allows', async (scope, ctx) => {
      const transport = await scope.connect();
      if (!transport.capabilities.delayedRetry) ctx.skip();
      const endpoint = uniqueName('delay');
      const type = uniqueName('Delayed');
      const times: number[] = [];
      const delayMs = 700;
      await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async (d) => {
        times.push(performance.now());
        if (d.attempt === 1) await d.retry(delayMs, { reason: ErrorCodes.HANDLER_FAILED, errorMessage: 'later' });
        else await d.ack();
      });
      await transport.publish(testMessage(type, json({})));
      await waitUntil(
        () => times.length === 2,
        ms(15_000) + delayMs,
        () => `deliveries ${times.length}`,
      );
      const waited = (times[1] ?? 0) - (times[0] ?? 0);
      expect(waited).toBeGreaterThanOrEqual(delayMs - 1);
      // The declared precision is an upper bound on lateness; the allowance on top is a loaded test
      // machine's event-loop and disk noise, far below what a transport that polls slowly would show.
      expect(
        waited,
        `redelivered ${Math.round(waited - delayMs)} ms late; declared delayPrecisionMs ${transport.capabilities.delayPrecisionMs}`,
      ).toBeLessThanOrEqual(delayMs + transport.capabilities.delayPrecisionMs + ms(LOADED_MACHINE_ALLOWANCE_MS));
    });

    test('dead-letters a message keeping id, headers and body byte for byte, and replays it as it was', async (scope, ctx) => {
      const transport = await scope.connectAdmin();
      if (!transport.capabilities.deadLetterQueue) ctx.skip();
      const endpoint = uniqueName('dlq');
      const type = uniqueName('Poison');
      const deliveries: Delivery[] = [];
      await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async (d) => {
        deliveries.push(d);
        if (deliveries.length === 1) {
          await d.retry(0, { reason: ErrorCodes.HANDLER_FAILED, errorMessage: 'first' });
        } else if (deliveries.length === 2) {
          await d.deadLetter({
            reason: 'MAILROOM_ERR_HANDLER_FAILED',
            errorMessage: 'boom ✗',
            errorStack: 'Error: boom\n    at test',
            attempts: d.attempt,
            firstFailureAt: d.firstFailureAt ?? new Date(),
            lastFailureAt: new Date(),
          });
        } else {
          await d.ack();
        }
      });
      const body = new Uint8Array([0xff, 0x00, 0x7b, 0x22, 0xe2, 0x9c, 0x93]);
      const message = testMessage(type, body, { 'x-original': 'yes ✓' });
      await transport.publish(message);
      let letters = await waitFor(
        () => transport.deadLetters.list({ endpoint }),
        (l) => l.length === 1,
        ms(10_000),
      );
      const letter = letters[0];
      if (!letter) throw new Error('no dead letter');
      expect(letter.endpoint).toBe(endpoint);
      expect(letter.messageId).toBe(message.headers[HeaderNames.id]);
      expect(letter.type).toBe(type);
      expect(letter.headers).toEqual(message.headers);
      expect(Buffer.from(letter.body).equals(Buffer.from(body))).toBe(true);
      expect(letter.reason).toBe('MAILROOM_ERR_HANDLER_FAILED');
      expect(letter.errorMessage).toBe('boom ✗');
      expect(letter.errorStack).toContain('at test');
      expect(letter.attempts).toBe(2);
      expect(letter.lastFailureAt.getTime()).toBeGreaterThanOrEqual(letter.firstFailureAt.getTime());
      expect((await transport.deadLetters.get(letter.id)).messageId).toBe(letter.messageId);
      expect((await transport.deadLetters.list({ endpoint, type: 'Nope' })).length).toBe(0);
      expect((await transport.deadLetters.list({ endpoint, since: new Date(Date.now() + 60_000) })).length).toBe(0);

      await transport.deadLetters.replay(letter.id);
      await waitUntil(
        () => deliveries.length === 3,
        ms(10_000),
        () => `deliveries ${deliveries.length}`,
      );
      const replayed = deliveries[2] as Delivery;
      expect(replayed.headers).toEqual(message.headers);
      expect(Buffer.from(replayed.body).equals(Buffer.from(body))).toBe(true);
      expect(replayed.attempt).toBe(1);
      letters = await transport.deadLetters.list({ endpoint });
      expect(letters).toEqual([]);
      await expect(transport.deadLetters.get(letter.id)).rejects.toSatisfy((e) => isMailroomError(e, ErrorCodes.DEAD_LETTER_NOT_FOUND));
      await expect(transport.deadLetters.replay(letter.id)).rejects.toSatisfy((e) => isMailroomError(e, ErrorCodes.DEAD_LETTER_NOT_FOUND));
    });

    test('purges dead letters by filter', async (scope, ctx) => {
      const transport = await scope.connectAdmin();
      if (!transport.capabilities.deadLetterQueue) ctx.skip();
      const endpoint = uniqueName('purge');
      const type = uniqueName('Purged');
      await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 4 }, async (d) => {
        await d.deadLetter({
          reason: ErrorCodes.HANDLER_FAILED,
          errorMessage: 'x',
          attempts: d.attempt,
          firstFailureAt: new Date(),
          lastFailureAt: new Date(),
        });
      });
      for (let i = 0; i < 3; i++) await transport.publish(testMessage(type, json({ i })));
      await waitFor(
        () => transport.deadLetters.list({ endpoint }),
        (l) => l.length === 3,
        ms(10_000),
      );
      const [first] = await transport.deadLetters.list({ endpoint });
      expect(await transport.deadLetters.purge({ endpoint, ids: [first?.id as string] })).toBe(1);
      expect(await transport.deadLetters.purge({ endpoint })).toBe(2);
      expect(await transport.deadLetters.list({ endpoint })).toEqual([]);
    });

    const pagingTest = (name: string, run: (scope: Scope, context: { ms: (n: number) => number }) => Promise<void>) =>
      test(
        name,
        async (scope, ctx) => {
          const transport = await scope.connect();
          if (!transport.capabilities.deadLetterQueue) ctx.skip();
          await run(scope, { ms });
        },
        ms(60_000),
      );
    pagingTest('pages dead letters oldest-first and newest-first by (time, id), list agreeing', runPagingOrder);
    pagingTest('a cursor walk returns every dead letter exactly once while letters are added between pages', runPagingUnderInserts);
    pagingTest('dead-letter filters combine (endpoint, type, since, before, ids) in page, list and purge', runPagingFilters);
    pagingTest('a malformed or foreign cursor and invalid filter values throw typed errors', runPagingErrors);

    test('never has more unsettled deliveries than the concurrency limit', async (scope) => {
      const transport = await scope.connect();
      const endpoint = uniqueName('limit');
      const type = uniqueName('Limited');
      let active = 0;
      let peak = 0;
      let done = 0;
      await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 3 }, async (d) => {
        active += 1;
        peak = Math.max(peak, active);
        await sleep(20);
        active -= 1;
        await d.ack();
        done += 1;
      });
      await Promise.all(Array.from({ length: 30 }, () => transport.publish(testMessage(type, json({})))));
      await waitUntil(
        () => done === 30,
        ms(20_000),
        () => `done ${done}/30`,
      );
      expect(peak).toBeLessThanOrEqual(3);
      expect(peak).toBeGreaterThanOrEqual(2);
    });

    test('delivers messages published while no consumer runs once one starts', async (scope) => {
      const transport = await scope.connect();
      const endpoint = uniqueName('offline');
      const type = uniqueName('WhileAway');
      const first = await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, (d) => d.ack());
      await first.close();
      const messages = Array.from({ length: 10 }, (_, i) => testMessage(type, json({ i })));
      for (const m of messages) await transport.publish(m);
      const later = await scope.connect();
      const got = new Set<string>();
      await later.subscribe({ endpoint, events: [type], commands: [], concurrency: 2 }, async (d) => {
        got.add(d.headers[HeaderNames.id] as string);
        await d.ack();
      });
      await waitUntil(
        () => got.size === 10,
        ms(10_000),
        () => `got ${got.size}/10`,
      );
    });

    test('redelivers the unsettled messages of a consumer that died to another consumer', async (scope) => {
      const publisher = await scope.connect();
      const endpoint = uniqueName('dies');
      const type = uniqueName('Orphaned');
      const doomed = await scope.connect();
      const held: Delivery[] = [];
      await doomed.subscribe({ endpoint, events: [type], commands: [], concurrency: 5 }, (d) => {
        held.push(d); // never settled
      });
      for (let i = 0; i < 5; i++) await publisher.publish(testMessage(type, json({ i })));
      await waitUntil(
        () => held.length === 5,
        ms(10_000),
        () => `held ${held.length}`,
      );
      await doomed.close();
      const survivor = await scope.connect();
      const got: Delivery[] = [];
      await survivor.subscribe({ endpoint, events: [type], commands: [], concurrency: 5 }, async (d) => {
        got.push(d);
        await d.ack();
      });
      await waitUntil(
        () => got.length === 5,
        ms(15_000),
        () => `redelivered ${got.length}/5`,
      );
      expect(new Set(got.map((d) => d.headers[HeaderNames.id]))).toEqual(new Set(held.map((d) => d.headers[HeaderNames.id])));
      expect(got.every((d) => d.attempt >= 2)).toBe(true);
      await expect(held[0]?.ack()).rejects.toBeDefined();
    });

    test('closes idempotently and promptly while a handler is blocked', async (scope) => {
      const transport = await scope.connect();
      const endpoint = uniqueName('blocked');
      const type = uniqueName('Blocking');
      let entered = false;
      await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async () => {
        entered = true;
        await new Promise(() => undefined);
      });
      await transport.publish(testMessage(type, json({})));
      await waitUntil(() => entered, ms(10_000));
      const closing = Promise.all([transport.close(), transport.close()]);
      const outcome = await Promise.race([closing.then(() => 'closed'), sleep(ms(5000)).then(() => 'hung')]);
      expect(outcome).toBe('closed');
      await transport.close();
      await expect(transport.publish(testMessage(type, json({})))).rejects.toSatisfy((e) => isMailroomError(e, ErrorCodes.TRANSPORT_CLOSED));
    });

    test('rejects settling a delivery twice with MAILROOM_ERR_TRANSPORT_SETTLED, keeping the connection usable', async (scope) => {
      const transport = await scope.connect();
      const endpoint = uniqueName('twice');
      const type = uniqueName('Twice');
      const errors: unknown[] = [];
      let handled = 0;
      await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async (d) => {
        await d.ack();
        handled += 1;
        await d.ack().catch((e) => errors.push(e));
        await d.retry(0, { reason: ErrorCodes.HANDLER_FAILED, errorMessage: 'x' }).catch((e) => errors.push(e));
      });
      await transport.publish(testMessage(type, json({ n: 1 })));
      await transport.publish(testMessage(type, json({ n: 2 })));
      await waitUntil(
        () => handled === 2 && errors.length === 4,
        ms(10_000),
        () => `handled ${handled}, errors ${errors.length}`,
      );
      expect(errors.every((e) => isMailroomError(e, ErrorCodes.TRANSPORT_SETTLED))).toBe(true);
    });

    test('reports queue depth', async (scope) => {
      const transport = await scope.connectAdmin();
      const endpoint = uniqueName('depth');
      const type = uniqueName('Counted');
      const subscription = await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, (d) => d.ack());
      await subscription.close();
      for (let i = 0; i < 4; i++) await transport.publish(testMessage(type, json({ i })));
      const info = await waitFor(
        async () => (await transport.queues()).find((q) => q.endpoint === endpoint),
        (q) => q?.depth === 4,
        ms(10_000),
      );
      expect(info?.events).toContain(type);
      // The oldest message's age, where the transport can tell: at least the time since it was published.
      if (info?.oldestMessageAgeMs !== undefined) {
        await sleep(50);
        const later = (await transport.queues()).find((q) => q.endpoint === endpoint);
        expect(later?.oldestMessageAgeMs).toBeGreaterThanOrEqual(50);
      }
    });

    test('reports its connection in health(): connected while open, not once closed', async (scope) => {
      const transport = await scope.connect();
      if (!transport.health) return;
      expect(transport.health()).toMatchObject({ connected: true });
      await transport.close();
      expect(transport.health()).toEqual({ connected: false, detail: 'closed' });
    });

    test('keeps messages across closing every connection when durable', async (scope, ctx) => {
      const transport = await scope.connect();
      if (!transport.capabilities.durable) ctx.skip();
      const endpoint = uniqueName('durable');
      const type = uniqueName('Kept');
      const subscription = await transport.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, (d) => d.ack());
      await subscription.close();
      const message = testMessage(type, json({ keep: true }));
      await transport.publish(message);
      await transport.close();
      const fresh = await scope.connect();
      const got: string[] = [];
      await fresh.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async (d) => {
        got.push(d.headers[HeaderNames.id] as string);
        await d.ack();
      });
      await waitUntil(() => got.length === 1, ms(10_000));
      expect(got).toEqual([message.headers[HeaderNames.id]]);
    });

    test(
      'moves messages both ways between processes when it declares crossProcess',
      async (scope, ctx) => {
        const transport = await scope.connect();
        if (!transport.capabilities.crossProcess) ctx.skip();
        const connection = options.childProcess;
        if (!connection) throw new Error(`${options.name} declares crossProcess: give describeTransport a childProcess connection so the suite can prove it`);
        const fromChild = uniqueName('FromChild');
        const toChild = uniqueName('ToChild');
        const here = uniqueName('parent');
        const received = new Map<string, string>();
        await transport.subscribe({ endpoint: here, events: [fromChild], commands: [], concurrency: 4 }, async (d) => {
          received.set(d.headers[HeaderNames.id] as string, Buffer.from(d.body).toString('utf8'));
          await d.ack();
        });
        const sent = Array.from({ length: 10 }, (_, i) => testMessage(toChild, json({ i, from: 'parent' })));
        const report = await runChildTransport(
          connection,
          { type: fromChild, publish: 20, endpoint: uniqueName('child'), consumeType: toChild, consume: sent.length },
          async () => {
            for (const message of sent) await transport.publish(message);
          },
          ms(60_000),
        );
        await waitUntil(
          () => received.size >= report.published.length,
          ms(15_000),
          () => `received ${received.size}/${report.published.length} from the child`,
        );
        expect(report.published).toHaveLength(20);
        expect([...received.keys()].sort()).toEqual([...report.published].sort());
        expect(report.consumed.map((c) => c.id).sort()).toEqual(sent.map((m) => m.headers[HeaderNames.id] as string).sort());
        for (const message of sent) {
          const got = report.consumed.find((c) => c.id === message.headers[HeaderNames.id]);
          expect(got?.body).toBe(Buffer.from(message.body).toString('utf8'));
        }
      },
      ms(90_000),
    );

    describe('through an endpoint', () => {
      const Poison = (type: string) => defineEvent(type, { version: 2, schema: numberSchema(), upcast: { 1: (v: { n: number }) => ({ n: v.n }) } });

      test('dead-letters a failing message after exactly 1 + immediate + delayed attempts', async (scope) => {
        const transport = await scope.connectAdmin();
        const type = uniqueName('AlwaysFails');
        const contract = Poison(type);
        const name = uniqueName('poisoned');
        const endpoint = createEndpoint({
          name,
          transport,
          recoverability: { immediateRetries: 2, delayedRetries: 2, initialDelayMs: 100, factor: 2, jitter: 0 },
        });
        scope.onDispose(() => endpoint.stop({ timeoutMs: 100 }));
        const attempts: number[] = [];
        const at: number[] = [];
        endpoint.on(contract, async (_message, ctx) => {
          attempts.push(ctx.attempt);
          at.push(performance.now());
          throw new Error(`fails on attempt ${ctx.attempt}`);
        });
        await endpoint.start();
        const { id } = await endpoint.publish(contract, { n: 1 });
        const [letter] = await waitFor(
          () => transport.deadLetters.list({ endpoint: name }),
          (l) => l.length === 1,
          ms(15_000),
        );
        expect(attempts).toEqual([1, 2, 3, 4, 5]);
        expect(letter?.messageId).toBe(id);
        expect(letter?.reason).toBe(ErrorCodes.HANDLER_FAILED);
        expect(letter?.attempts).toBe(5);
        expect(letter?.errorMessage).toBe('fails on attempt 5');
        const gaps = at.slice(1).map((t, i) => t - (at[i] as number));
        expect(gaps[2]).toBeGreaterThanOrEqual(99);
        expect(gaps[3]).toBeGreaterThanOrEqual(199);
      });

      test('dead-letters undecodable, invalid, unknown-version and unrecoverable messages at once, with their reasons', async (scope) => {
        const transport = await scope.connectAdmin();
        const type = uniqueName('Strict');
        const contract = Poison(type);
        const name = uniqueName('strict');
        const endpoint = createEndpoint({ name, transport, recoverability: { immediateRetries: 5 } });
        scope.onDispose(() => endpoint.stop({ timeoutMs: 100 }));
        let handled = 0;
        endpoint.on(contract, async (message) => {
          if (message.n === 13) throw new UnrecoverableError('13 is refused');
          handled += 1;
        });
        await endpoint.start();
        const base = (version: number, body: Uint8Array, extra: Record<string, string> = {}): OutgoingMessage => {
          const m = testMessage(type, body, extra);
          return { ...m, headers: { ...m.headers, [HeaderNames.dataversion]: String(version) } };
        };
        const cases: [OutgoingMessage, string][] = [
          [base(2, new TextEncoder().encode('{"n": 1,')), ErrorCodes.CODEC_MALFORMED],
          [base(2, json({ n: 'one' })), ErrorCodes.CONTRACT_VALIDATION],
          [base(3, json({ n: 1 })), ErrorCodes.CONTRACT_UNKNOWN_VERSION],
          [base(2, new TextEncoder().encode('{"__proto__":{"x":1},"n":1}')), ErrorCodes.CODEC_MALFORMED],
          [base(2, json({ n: 13 })), ErrorCodes.HANDLER_UNRECOVERABLE],
          [{ ...base(2, json({ n: 1 })), headers: { ...base(2, json({ n: 1 })).headers, [HeaderNames.specversion]: '0.3' } }, ErrorCodes.ENVELOPE_INVALID],
        ];
        for (const [message] of cases) await transport.publish(message);
        await transport.publish(base(1, json({ n: 7 })));
        const letters = await waitFor(
          () => transport.deadLetters.list({ endpoint: name }),
          (l) => l.length === cases.length,
          ms(15_000),
        );
        const byId = new Map(letters.map((l) => [l.messageId, l]));
        for (const [message, reason] of cases) {
          const letter = byId.get(message.headers[HeaderNames.id] as string);
          expect(letter?.reason, reason).toBe(reason);
          expect(letter?.attempts).toBe(1);
          expect(Buffer.from(letter?.body ?? []).equals(Buffer.from(message.body))).toBe(true);
        }
        await waitUntil(
          () => handled === 1,
          ms(5000),
          () => 'the v1 message is upcast and handled',
        );
      });
    });

    describe('hostile messages and the delivery bound', () => {
      const context = { raw: options.raw, ms };
      test(
        'dead-letters every message of the hostile corpus at attempt 1 with a readable reason, good messages unaffected',
        async (scope) => {
          await runHostileCorpus(scope, context);
        },
        ms(120_000),
      );

      test('parks a message retried again and again once it passed maxDeliveries (MAILROOM_ERR_TRANSPORT_DELIVERY_LIMIT)', async (scope) => {
        await runRetryLoopBound(scope, context, testMessage(uniqueName('Looping'), json({ loop: true }), { 'x-keep': 'me ✓' }, uniqueName('loop')));
      });

      test('parks a message whose consumers keep dying with it unsettled once it passed maxDeliveries', async (scope) => {
        await runCrashLoopBound(scope, context, testMessage(uniqueName('Crashing'), json({ crash: true }), { 'x-keep': 'me ✓' }, uniqueName('crash')));
      });
    });

    const parallel = options.stressParallelism ?? 4;
    describe.runIf(parallel > 0)('stress', () => {
      test(`runs ${parallel} round trips with competing consumers in parallel without loss or duplicates`, async (scope) => {
        await Promise.all(
          Array.from({ length: parallel }, async () => {
            const publisher = await scope.connect();
            const endpoint = uniqueName('stress');
            const type = uniqueName('Stress');
            const acked = new Map<string, number>();
            for (let c = 0; c < 2; c++) {
              const consumer = await scope.connect();
              await consumer.subscribe({ endpoint, events: [type], commands: [], concurrency: 8 }, async (d) => {
                const id = d.headers[HeaderNames.id] as string;
                if (Math.random() < 0.1 && d.attempt === 1) return d.retry(0, { reason: ErrorCodes.HANDLER_FAILED, errorMessage: 'random' });
                await d.ack();
                acked.set(id, (acked.get(id) ?? 0) + 1);
              });
            }
            const messages = Array.from({ length: 200 }, (_, i) => testMessage(type, json({ i, pad: randomUUID() })));
            await Promise.all(messages.map((m) => publisher.publish(m)));
            await waitUntil(
              () => acked.size === 200,
              ms(30_000),
              () => `stress handled ${acked.size}/200`,
            );
            await sleep(ms(200));
            expect([...acked.values()].every((count) => count === 1)).toBe(true);
          }),
        );
      });
    });
  }
}

/** Reads until `done` holds; fails with the last value after `timeoutMs`. */
function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  return pollFor(read, done, timeoutMs, (value) => `last value: ${JSON.stringify(value)?.slice(0, 500)}`);
}
