import { sleep, testMessage, uniqueName, waitUntil } from '@mailroom/conformance';
import { connectTransport, createEndpoint, type Delivery, defineEvent, ErrorCodes, HeaderNames, type Transport } from '@mailroom/core';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { connect } from '@nats-io/transport-node';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createNatsTransport, NATS_DELAY_PRECISION_MS } from '../src/index.js';
import { createNatsNames } from '../src/nats-names.js';
import { RetryStateStore } from '../src/retry-state.js';
import { deleteStreams, NATS_URL, uniquePrefix } from './helpers.js';

const prefix = uniquePrefix('dlv');
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** Registers the NATS-specific delivery tests: poison through endpoints, crash and AckWait, working(), delays, queues. */
export function describeNatsDeliveries(): void {
  describe('NATS JetStream deliveries', () => {
    const open: Transport[] = [];
    const transport = async (ackWaitMs = 5000) => {
      const created = await createNatsTransport({ prefix, ackWaitMs });
      open.push(created);
      return created;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((t) => t.close()));
    });
    afterAll(() => deleteStreams(prefix));

    it('dead-letters a poison message through two competing endpoint processes after exactly the configured attempts', async () => {
      const Poison = defineEvent(uniqueName('Poison'), { version: 1, schema: numberSchema() });
      const name = uniqueName('poisoned');
      const attempts: { attempt: number; process: number; at: number }[] = [];
      const endpoints = [];
      for (const process of [0, 1]) {
        const endpoint = createEndpoint({
          name,
          transport: await transport(),
          concurrency: 1,
          recoverability: { immediateRetries: 1, delayedRetries: 2, initialDelayMs: 150, factor: 2, jitter: 0 },
        });
        endpoint.on(Poison, async (_message, ctx) => {
          attempts.push({ attempt: ctx.attempt, process, at: Date.now() });
          throw new Error(`poison, attempt ${ctx.attempt}`);
        });
        await endpoint.start();
        endpoints.push(endpoint);
      }
      const [publisher] = open as [Transport];
      const { id } = await (endpoints[0] as (typeof endpoints)[0]).publish(Poison, { n: 1 });
      await waitUntil(
        () => attempts.length >= 4,
        15_000,
        () => `attempts ${attempts.length}`,
      );
      const letters = await waitForLetters(publisher, name, 1);
      await sleep(500);
      await Promise.all(endpoints.map((e) => e.stop({ timeoutMs: 100 })));
      expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
      const letter = letters[0];
      expect(letter?.messageId).toBe(id);
      expect(letter?.attempts).toBe(4);
      expect(letter?.reason).toBe(ErrorCodes.HANDLER_FAILED);
      expect(letter?.errorMessage).toBe('poison, attempt 4');
      // The first failure time comes from the retry-state bucket, whichever process got the retry.
      const first = attempts[0]?.at as number;
      expect(letter?.firstFailureAt.getTime()).toBeGreaterThanOrEqual(first - 5);
      expect(letter?.firstFailureAt.getTime()).toBeLessThanOrEqual(attempts[1]?.at as number);
      console.log(`[nats poison] attempts by process: ${attempts.map((a) => `${a.attempt}@p${a.process}`).join(' ')}`);
    });

    it('keeps a dead letter too large for one message whole: body (and headers) in the object store, restored, replayed, purged', async () => {
      const nats = (await transport()) as Awaited<ReturnType<typeof createNatsTransport>>;
      const endpoint = uniqueName('huge');
      const type = uniqueName('Huge');
      const deliveries: Delivery[] = [];
      await nats.subscribe({ endpoint, events: [], commands: [type], concurrency: 2 }, async (delivery) => {
        deliveries.push(delivery);
        if (delivery.attempt > 1 || deliveries.length > 2) await delivery.ack();
        else
          await delivery.deadLetter({
            reason: ErrorCodes.HANDLER_UNRECOVERABLE,
            errorMessage: 'too big to keep? no',
            errorStack: 's'.repeat(8000),
            attempts: 1,
            firstFailureAt: new Date(),
            lastFailureAt: new Date(),
          });
      });
      const maxPayload = nats.connection.info?.max_payload ?? 1024 * 1024;
      const bigBody = new Uint8Array(maxPayload - 4096).fill(0x61);
      const bigHeaders = testMessage(type, json({ small: true }), { 'x-fill': 'h'.repeat(64 * 1024 - 1200) }, endpoint);
      const bigBodied = testMessage(type, bigBody, {}, endpoint);
      await nats.publish(bigBodied);
      await nats.publish(bigHeaders);
      const letters = await waitForLetters(nats, endpoint, 2);
      const byId = new Map(letters.map((letter) => [letter.messageId, letter]));
      for (const message of [bigBodied, bigHeaders]) {
        const letter = byId.get(message.headers[HeaderNames.id] as string);
        expect(letter?.headers).toEqual(message.headers);
        expect(Buffer.from(letter?.body ?? []).equals(Buffer.from(message.body))).toBe(true);
        expect(letter?.errorMessage).toMatch(/too big to keep/);
      }
      const objects = await new Objm(jetstream(nats.connection)).open(nats.names.deadLetterObjectsBucket);
      expect((await objects.list()).filter((info) => !info.deleted)).toHaveLength(3);
      // Replayed as it was published; its objects go with it.
      await nats.deadLetters.replay(byId.get(bigBodied.headers[HeaderNames.id] as string)?.id as string);
      await waitUntil(
        () => deliveries.length === 3,
        10_000,
        () => `deliveries ${deliveries.length}`,
      );
      expect(Buffer.from(deliveries[2]?.body ?? []).equals(Buffer.from(bigBody))).toBe(true);
      expect((await objects.list()).filter((info) => !info.deleted)).toHaveLength(2);
      expect(await nats.deadLetters.purge({ endpoint })).toBe(1);
      expect((await objects.list()).filter((info) => !info.deleted)).toHaveLength(0);
    });

    it('redelivers the messages of a consumer whose connection died without a word after AckWait', async () => {
      const ackWaitMs = 1000;
      const own = await connect({ servers: NATS_URL });
      const doomed = await createNatsTransport({ prefix, ackWaitMs, connection: own });
      const publisher = await transport(ackWaitMs);
      const endpoint = uniqueName('crash');
      const type = uniqueName('Crashed');
      const held: Delivery[] = [];
      await doomed.subscribe({ endpoint, events: [type], commands: [], concurrency: 3 }, (d) => {
        held.push(d);
      });
      for (let i = 0; i < 3; i++) await publisher.publish(testMessage(type, json({ i })));
      await waitUntil(() => held.length === 3, 10_000);
      // A crash: the connection goes away, nothing is nak'd.
      await own.close();
      const crashedAt = Date.now();
      const survivor = await transport(ackWaitMs);
      const got: { attempt: number; at: number }[] = [];
      await survivor.subscribe({ endpoint, events: [type], commands: [], concurrency: 3 }, async (d) => {
        got.push({ attempt: d.attempt, at: Date.now() });
        await d.ack();
      });
      await waitUntil(
        () => got.length === 3,
        15_000,
        () => `redelivered ${got.length}/3`,
      );
      expect(got.every((g) => g.attempt === 2)).toBe(true);
      console.log(`[nats crash] redelivered ${Math.max(...got.map((g) => g.at)) - crashedAt} ms after the crash (AckWait ${ackWaitMs} ms)`);
      await doomed.close();
      expect(own.isClosed()).toBe(true);
    });

    it('keeps a handler that runs longer than AckWait from being redelivered (working)', async () => {
      const ackWaitMs = 600;
      const endpoint = uniqueName('slow');
      const type = uniqueName('Slow');
      const deliveries: number[] = [];
      for (let c = 0; c < 2; c++) {
        const consumer = await transport(ackWaitMs);
        await consumer.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async (d) => {
          deliveries.push(d.attempt);
          await sleep(ackWaitMs * 4);
          await d.ack();
        });
      }
      await (open[0] as Transport).publish(testMessage(type, json({})));
      await waitUntil(() => deliveries.length >= 1, 10_000);
      await sleep(ackWaitMs * 5);
      expect(deliveries).toEqual([1]);
    });

    it('hands every message to slow handlers exactly once while the others wait longer than AckWait for a slot', async () => {
      // Messages pulled ahead of a free slot must be kept alive too, or the server redelivers them
      // after AckWait while the original still waits or runs.
      const ackWaitMs = 1000;
      const consumer = await transport(ackWaitMs);
      const endpoint = uniqueName('queued');
      const type = uniqueName('Queued');
      const runs: { i: number; attempt: number }[] = [];
      const done = new Set<number>();
      await consumer.subscribe({ endpoint, events: [type], commands: [], concurrency: 2 }, async (d) => {
        const i = JSON.parse(new TextDecoder().decode(d.body)).i as number;
        runs.push({ i, attempt: d.attempt });
        await sleep(1500);
        await d.ack().catch(() => undefined);
        done.add(i);
      });
      for (let i = 0; i < 8; i++) await consumer.publish(testMessage(type, json({ i })));
      await waitUntil(
        () => done.size === 8,
        30_000,
        () => `handled ${done.size}/8, runs ${JSON.stringify(runs)}`,
      );
      expect(runs.map((r) => r.i).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(runs.every((r) => r.attempt === 1)).toBe(true);
    });

    it('pulls ahead of busy handlers no more than twice the concurrency, every message handled once', async () => {
      const ackWaitMs = 1000;
      const consumer = await transport(ackWaitMs);
      const endpoint = uniqueName('ahead');
      const type = uniqueName('Ahead');
      const runs: number[] = [];
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      await consumer.subscribe({ endpoint, events: [type], commands: [], concurrency: 3 }, async (d) => {
        runs.push(JSON.parse(new TextDecoder().decode(d.body)).i as number);
        await gate;
        await d.ack();
      });
      for (let i = 0; i < 20; i++) await consumer.publish(testMessage(type, json({ i })));
      await waitUntil(() => runs.length === 3, 10_000);
      // Longer than AckWait: the messages pulled ahead are kept alive, not redelivered.
      await sleep(ackWaitMs * 1.5);
      const held = (await consumer.queues()).find((q) => q.endpoint === endpoint);
      expect(held?.inFlight).toBe(6);
      expect(held?.depth).toBe(20);
      release();
      await waitUntil(
        () => runs.length >= 20,
        15_000,
        () => `handled ${runs.length}/20`,
      );
      await sleep(300);
      expect([...runs].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    });

    it('sends the acknowledgements of a transport closed right after them', async () => {
      const ackWaitMs = 1000;
      const first = await createNatsTransport({ prefix, ackWaitMs });
      const endpoint = uniqueName('acked-closing');
      const type = uniqueName('AckedClosing');
      let acked = 0;
      let closing: Promise<void> | undefined;
      await first.subscribe({ endpoint, events: [type], commands: [], concurrency: 4 }, async (d) => {
        await d.ack();
        acked += 1;
        // In the turn of the last ack, before it was written.
        if (acked === 4) closing = first.close();
      });
      for (let i = 0; i < 4; i++) await first.publish(testMessage(type, json({ i })));
      await waitUntil(() => closing !== undefined, 10_000);
      await closing;
      const second = await transport(ackWaitMs);
      const again: number[] = [];
      await second.subscribe({ endpoint, events: [type], commands: [], concurrency: 4 }, async (d) => {
        again.push(d.attempt);
        await d.ack();
      });
      // Lost acks would come back after AckWait (or 1.25 s for given-back ones).
      await sleep(ackWaitMs * 2.5);
      expect(again).toEqual([]);
      const queue = (await second.queues()).find((q) => q.endpoint === endpoint);
      expect(queue?.depth ?? 0).toBe(0);
    });

    it('dead-letters the headers as published, whatever the handler did to its delivery.headers', async () => {
      const endpoint = uniqueName('mutated');
      const type = uniqueName('Mutated');
      const subscriber = await transport();
      await subscriber.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async (d) => {
        d.headers['x-kept'] = 'changed';
        d.headers['x-added'] = 'added';
        await d.deadLetter({ reason: ErrorCodes.HANDLER_FAILED, errorMessage: 'no', attempts: 1, firstFailureAt: new Date(), lastFailureAt: new Date() });
      });
      const message = testMessage(type, json({}));
      await subscriber.publish({ ...message, headers: { ...message.headers, 'x-kept': 'original' } });
      const [letter] = await waitForLetters(subscriber, endpoint, 1);
      expect(letter?.headers['x-kept']).toBe('original');
      expect(letter?.headers).not.toHaveProperty('x-added');
    });

    it('forgets the first failure time of a retried message once its ack reached the server', async () => {
      const endpoint = uniqueName('forgotten');
      const type = uniqueName('Forgotten');
      // Where the first retry stored the first failure time (the key names the stream sequence).
      const recorded: string[] = [];
      const record = RetryStateStore.prototype.record;
      const spy = vi.spyOn(RetryStateStore.prototype, 'record').mockImplementation(async function (this: RetryStateStore, key: string, at: Date) {
        if (key.includes(endpoint)) recorded.push(key);
        await record.call(this, key, at);
      });
      const nc = await connect({ servers: NATS_URL });
      try {
        const subscriber = await transport();
        const kv = await new Kvm(nc).open(createNatsNames(prefix).retryStateBucket);
        const stored = async (key: string) => (await kv.get(key))?.operation === 'PUT';
        let storedWhileRetried = false;
        const attempts: Delivery[] = [];
        await subscriber.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async (d) => {
          attempts.push(d);
          if (d.attempt === 1) {
            await d.retry(0, { reason: ErrorCodes.HANDLER_FAILED, errorMessage: 'again' });
            return;
          }
          storedWhileRetried = await stored(recorded[0] as string);
          await d.ack();
        });
        await subscriber.publish(testMessage(type, json({})));
        await waitUntil(() => attempts.length === 2, 10_000);
        expect(recorded).toHaveLength(1);
        expect(attempts[1]?.firstFailureAt).toBeInstanceOf(Date);
        expect(storedWhileRetried).toBe(true);
        await waitUntil(async () => !(await stored(recorded[0] as string)), 5_000);
      } finally {
        spy.mockRestore();
        await nc.close();
      }
    });

    it('gives back, instead of handing out, a redelivery whose first-failure lookup was pending when pause() resolved', async () => {
      const endpoint = uniqueName('paused');
      const type = uniqueName('Paused');
      let lookupStarted!: () => void;
      const started = new Promise<void>((resolve) => {
        lookupStarted = resolve;
      });
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const lookup = RetryStateStore.prototype.firstFailureAt;
      // Holds the lookup of this endpoint's redelivery until the subscription is paused.
      const spy = vi.spyOn(RetryStateStore.prototype, 'firstFailureAt').mockImplementation(async function (this: RetryStateStore, key: string) {
        const found = await lookup.call(this, key);
        if (key.includes(endpoint)) {
          lookupStarted();
          await gate;
        }
        return found;
      });
      try {
        const first = await transport();
        const attempts: number[] = [];
        const subscription = await first.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async (d) => {
          attempts.push(d.attempt);
          if (d.attempt === 1) await d.retry(0, { reason: ErrorCodes.HANDLER_FAILED, errorMessage: 'again' });
          else await d.ack();
        });
        await first.publish(testMessage(type, json({})));
        await started;
        await subscription.pause();
        release();
        await sleep(50);
        expect(attempts).toEqual([1]);
        // Given back, not held: the next subscriber gets it with its first failure time.
        const second = await transport();
        const later: Delivery[] = [];
        await second.subscribe({ endpoint, events: [type], commands: [], concurrency: 1 }, async (d) => {
          later.push(d);
          await d.ack();
        });
        await waitUntil(() => later.length === 1, 15_000);
        expect(later[0]?.attempt).toBe(3);
        expect(later[0]?.firstFailureAt).toBeInstanceOf(Date);
        expect(attempts).toEqual([1]);
      } finally {
        spy.mockRestore();
      }
    });

    it('holds delayed retries for at least their delay and reports how late they come', async () => {
      const consumer = await transport();
      const endpoint = uniqueName('delays');
      const type = uniqueName('Delayed');
      const delays = [50, 200, 500, 1000, 50, 200, 500, 1000];
      const nakedAt = new Map<number, number>();
      const lateness: number[] = [];
      await consumer.subscribe({ endpoint, events: [type], commands: [], concurrency: delays.length }, async (d) => {
        const index = JSON.parse(new TextDecoder().decode(d.body)).i as number;
        if (d.attempt === 1) {
          nakedAt.set(index, performance.now());
          await d.retry(delays[index] as number, { reason: ErrorCodes.HANDLER_FAILED, errorMessage: 'later' });
        } else {
          lateness.push(performance.now() - (nakedAt.get(index) as number) - (delays[index] as number));
          await d.ack();
        }
      });
      for (let i = 0; i < delays.length; i++) await consumer.publish(testMessage(type, json({ i })));
      await waitUntil(
        () => lateness.length === delays.length,
        15_000,
        () => `${lateness.length}/${delays.length}`,
      );
      const sorted = [...lateness].sort((a, b) => a - b);
      console.log(
        `[nats delay] lateness over ${delays.length} delayed retries: min ${sorted[0]?.toFixed(1)} ms, median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms (declared precision ${NATS_DELAY_PRECISION_MS} ms)`,
      );
      expect(sorted[0]).toBeGreaterThanOrEqual(-1);
    });

    it('reports queues with waiting commands, running consumers and dead letters; connects from a nats:// URL', async () => {
      const viaUrl = await connectTransport(`${NATS_URL}`, { prefix });
      open.push(viaUrl);
      expect(viaUrl.name).toBe('nats');
      const never = uniqueName('never-started');
      const type = uniqueName('Waiting');
      for (let i = 0; i < 3; i++) await viaUrl.publish(testMessage(type, json({ i }), {}, never));
      const running = uniqueName('running');
      const event = uniqueName('Watched');
      for (let c = 0; c < 2; c++) {
        const consumer = await transport();
        await consumer.subscribe({ endpoint: running, events: [event], commands: [], concurrency: 2 }, (d) =>
          d.deadLetter({ reason: ErrorCodes.HANDLER_FAILED, errorMessage: 'no', attempts: d.attempt, firstFailureAt: new Date(), lastFailureAt: new Date() }),
        );
      }
      await viaUrl.publish(testMessage(event, json({})));
      await waitForLetters(viaUrl, running, 1);
      const queues = await viaUrl.queues();
      const waiting = queues.find((q) => q.endpoint === never);
      expect(waiting).toMatchObject({ depth: 3, consumers: 0, deadLetters: 0 });
      const active = queues.find((q) => q.endpoint === running);
      expect(active).toMatchObject({ depth: 0, consumers: 2, deadLetters: 1, events: [event] });
      const [letter] = await viaUrl.deadLetters.list({ endpoint: running });
      expect(letter?.headers[HeaderNames.type]).toBe(event);
    });
  });
}

async function waitForLetters(transport: Transport, endpoint: string, count: number) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const letters = await transport.deadLetters.list({ endpoint });
    if (letters.length >= count) return letters;
    if (Date.now() > deadline) throw new Error(`${letters.length}/${count} dead letters for ${endpoint}`);
    await sleep(50);
  }
}

/** A minimal Standard Schema for `{ n: number }`. */
function numberSchema() {
  return {
    '~standard': {
      version: 1 as const,
      vendor: 'mailroom-nats-test',
      validate: (value: unknown) =>
        typeof value === 'object' && value !== null && typeof (value as { n?: unknown }).n === 'number'
          ? { value: value as { n: number } }
          : { issues: [{ message: 'expected { n: number }', path: ['n'] }] },
      types: undefined as unknown as { input: { n: number }; output: { n: number } },
    },
  };
}
