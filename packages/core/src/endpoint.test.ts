import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { until } from '../test/until.js';
import { defineCommand, defineEvent } from './contract.js';
import { createEndpoint, type Endpoint } from './endpoint.js';
import { HeaderNames } from './envelope.js';
import { ErrorCodes, UnrecoverableError } from './errors.js';
import type { Logger } from './logger.js';
import { createMemoryTransport, MemoryBroker } from './memory-transport.js';
import type { Transport } from './transport.js';

const OrderPlaced = defineEvent('test.OrderPlaced', { version: 1, schema: z.object({ orderId: z.string(), qty: z.number().int().positive() }) });
const PaymentAuthorized = defineEvent('test.PaymentAuthorized', { version: 1, schema: z.object({ orderId: z.string() }) });
const ChargeCard = defineCommand('test.ChargeCard', { version: 1, schema: z.object({ orderId: z.string() }), owner: 'payments' });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup(): { broker: MemoryBroker; connect: () => Transport; endpoint: (name: string, options?: object) => Endpoint } {
  const broker = new MemoryBroker();
  const connect = () => {
    const transport = createMemoryTransport({ broker });
    cleanups.push(() => transport.close());
    return transport;
  };
  return {
    broker,
    connect,
    endpoint: (name, options = {}) => {
      const endpoint = createEndpoint({ name, transport: connect(), recoverability: { immediateRetries: 0, delayedRetries: 0 }, ...options });
      cleanups.push(() => endpoint.stop({ timeoutMs: 200 }));
      return endpoint;
    },
  };
}

describe('endpoint', () => {
  it('validates on publish: a typed error to the caller, nothing sent', async () => {
    const { endpoint } = setup();
    const orders = endpoint('orders');
    const seen: unknown[] = [];
    const payments = endpoint('payments').on(OrderPlaced, (m) => void seen.push(m));
    await payments.start();
    await expect(orders.publish(OrderPlaced, { orderId: 'o1', qty: -1 })).rejects.toMatchObject({ code: ErrorCodes.CONTRACT_VALIDATION });
    await expect(orders.publish(ChargeCard as never, { orderId: 'x' } as never)).rejects.toMatchObject({
      code: ErrorCodes.ENDPOINT_CONFIG,
      message: expect.stringContaining('use send()'),
    });
    await sleep(30);
    expect(seen).toEqual([]);
  });

  it('propagates correlation and causation, and sends commands to their owner', async () => {
    const { endpoint } = setup();
    const orders = endpoint('orders');
    const billing = endpoint('billing');
    const payments = endpoint('payments');
    const envelopes: Record<string, { correlationid: string; causationid: string | undefined; id: string }> = {};
    billing.on(OrderPlaced, async (message, ctx) => {
      envelopes.placed = ctx.envelope;
      await ctx.send(ChargeCard, { orderId: message.orderId });
    });
    payments.on(ChargeCard, async (message, ctx) => {
      envelopes.charge = ctx.envelope;
      await ctx.publish(PaymentAuthorized, { orderId: message.orderId });
    });
    orders.on(PaymentAuthorized, async (_m, ctx) => {
      envelopes.authorized = ctx.envelope;
    });
    await Promise.all([orders.start(), billing.start(), payments.start()]);
    const published = await orders.publish(OrderPlaced, { orderId: 'o1', qty: 1 }, { correlationId: 'op-42' });
    await until(() => envelopes.authorized !== undefined);
    expect(envelopes.placed).toMatchObject({ id: published.id, correlationid: 'op-42' });
    expect(envelopes.charge).toMatchObject({ correlationid: 'op-42', causationid: published.id });
    expect(envelopes.authorized).toMatchObject({ correlationid: 'op-42', causationid: envelopes.charge?.id });
  });

  it('emits nothing from a failed handler, and the messages of its successful retry once', async () => {
    const { endpoint } = setup();
    const orders = endpoint('orders');
    const payments = endpoint('payments', { recoverability: { immediateRetries: 2, delayedRetries: 0 } });
    let attempts = 0;
    payments.on(OrderPlaced, async (message, ctx) => {
      attempts++;
      await ctx.publish(PaymentAuthorized, { orderId: message.orderId });
      if (ctx.attempt < 3) throw new Error(`flaky ${ctx.attempt}`);
    });
    const authorized: string[] = [];
    orders.on(PaymentAuthorized, (m) => void authorized.push(m.orderId));
    await Promise.all([orders.start(), payments.start()]);
    await orders.publish(OrderPlaced, { orderId: 'o1', qty: 1 });
    await until(() => authorized.length === 1);
    await sleep(30);
    expect(attempts).toBe(3);
    expect(authorized).toEqual(['o1']);
  });

  it('runs incoming and outgoing middleware in order, around the handler', async () => {
    const { endpoint } = setup();
    const calls: string[] = [];
    const app = endpoint('app', {
      middleware: {
        incoming: [
          async (_ctx: unknown, next: () => Promise<void>) => {
            calls.push('in:a>');
            await next();
            calls.push('<in:a');
          },
        ],
      },
    });
    app.use({
      incoming: async (ctx, next) => {
        calls.push(`in:b ${ctx.contract.type} attempt ${ctx.attempt}`);
        await next();
      },
      outgoing: async (ctx, next) => {
        ctx.headers['x-tenant'] = 'acme';
        calls.push(`out ${ctx.contract.type}`);
        await next();
      },
    });
    let tenant: string | undefined;
    app.on(OrderPlaced, async (_m, ctx) => {
      calls.push('handler');
      tenant = ctx.headers['x-tenant'];
    });
    await app.start();
    await app.publish(OrderPlaced, { orderId: 'o', qty: 2 });
    await until(() => calls.includes('<in:a'));
    expect(calls).toEqual(['out test.OrderPlaced', 'in:a>', 'in:b test.OrderPlaced attempt 1', 'handler', '<in:a']);
    expect(tenant).toBe('acme');
  });

  it('never runs more handlers at once than its concurrency', async () => {
    const { endpoint } = setup();
    const worker = endpoint('worker', { concurrency: 3 });
    let active = 0;
    let peak = 0;
    let done = 0;
    worker.on(OrderPlaced, async () => {
      peak = Math.max(peak, ++active);
      await sleep(10);
      active--;
      done++;
    });
    await worker.start();
    await Promise.all(Array.from({ length: 20 }, (_, i) => worker.publish(OrderPlaced, { orderId: `o${i}`, qty: 1 })));
    await until(() => done === 20);
    expect(peak).toBe(3);
  });

  it('stops gracefully: takes nothing new, lets in-flight handlers finish, then returns', async () => {
    const { endpoint, broker } = setup();
    const worker = endpoint('worker', { concurrency: 1 });
    let finished = 0;
    let started = 0;
    worker.on(OrderPlaced, async () => {
      started++;
      await sleep(100);
      finished++;
    });
    await worker.start();
    await worker.publish(OrderPlaced, { orderId: 'a', qty: 1 });
    await worker.publish(OrderPlaced, { orderId: 'b', qty: 1 });
    await until(() => started === 1);
    await worker.stop({ timeoutMs: 5000 });
    expect(finished).toBe(1);
    expect(started).toBe(1);
    expect(broker.queueInfos().find((q) => q.endpoint === 'worker')?.depth).toBe(1);
  });

  it('aborts the signal of handlers still running at the deadline and returns their messages to the queue', async () => {
    const { endpoint, broker } = setup();
    const worker = endpoint('worker', { concurrency: 1 });
    let aborted = false;
    worker.on(OrderPlaced, async (_m, ctx) => {
      await new Promise<void>((_resolve, reject) => {
        ctx.signal.addEventListener('abort', () => {
          aborted = true;
          reject(ctx.signal.reason);
        });
      });
    });
    await worker.start();
    await worker.publish(OrderPlaced, { orderId: 'a', qty: 1 });
    await sleep(20);
    await worker.stop({ timeoutMs: 50 });
    expect(aborted).toBe(true);
    const queue = broker.queueInfos().find((q) => q.endpoint === 'worker');
    expect(queue?.depth).toBe(1);
    expect(await broker.deadLetters.list()).toEqual([]);
  });

  it('uses the per-contract recoverability over the endpoint one', async () => {
    const { endpoint, connect, broker } = setup();
    const transport = connect();
    const worker = createEndpoint({ name: 'worker', transport, recoverability: { immediateRetries: 5, delayedRetries: 0 } });
    cleanups.push(() => worker.stop({ timeoutMs: 100 }));
    let attempts = 0;
    worker.on(
      OrderPlaced,
      async () => {
        attempts++;
        throw new Error('always');
      },
      { recoverability: { immediateRetries: 1 } },
    );
    await worker.start();
    await endpoint('pub').publish(OrderPlaced, { orderId: 'a', qty: 1 });
    await until(() => attempts === 2);
    await until(() => broker.queueInfos().find((q) => q.endpoint === 'worker')?.deadLetters === 1);
    const [letter] = await transport.deadLetters.list({ endpoint: 'worker' });
    expect(letter).toMatchObject({ reason: ErrorCodes.HANDLER_FAILED, attempts: 2, errorMessage: 'always' });
    expect(letter?.headers[HeaderNames.type]).toBe(OrderPlaced.type);
  });

  it('dead-letters, without running its handler, a message delivered more times than the default policy allows (a poison message that kills its process)', async () => {
    const { endpoint, connect, broker } = setup();
    let taken = 0;
    const dying = await connect().subscribe({ endpoint: 'worker', events: [OrderPlaced.type], commands: [], concurrency: 1 }, () => {
      taken++; // never settled: the process dies in the handler
    });
    await endpoint('pub').publish(OrderPlaced, { orderId: 'poison', qty: 1 });
    await until(() => taken === 1);
    await dying.close(); // back in the queue, attempt + 1
    let runs = 0;
    const worker = endpoint('worker', { recoverability: { immediateRetries: 0, delayedRetries: 0 } }).on(OrderPlaced, () => {
      runs++;
    });
    await worker.start();
    await until(() => broker.queueInfos().find((q) => q.endpoint === 'worker')?.deadLetters === 1);
    expect(runs).toBe(0);
    const [letter] = await broker.deadLetters.list({ endpoint: 'worker' });
    expect(letter).toMatchObject({ reason: ErrorCodes.HANDLER_FAILED, attempts: 2 });
    expect(letter?.errorMessage).toContain('delivered 2 times');
  });

  it('asks a custom policy, before running the handler again, whether a message whose earlier attempts never failed cleanly may run (the crash-loop guard)', async () => {
    const { endpoint, connect, broker } = setup();
    let taken = 0;
    for (let round = 0; round < 2; round++) {
      const dying = await connect().subscribe({ endpoint: 'guarded', events: [OrderPlaced.type], commands: [], concurrency: 1 }, () => {
        taken++; // never settled: the process dies in the handler
      });
      if (round === 0) await endpoint('pub').publish(OrderPlaced, { orderId: 'poison', qty: 1 });
      await until(() => taken === round + 1);
      await dying.close(); // back in the queue, attempt + 1
    }
    const asked: { failedAttempts: number; clean: boolean | undefined; code: unknown }[] = [];
    let runs = 0;
    const worker = endpoint('guarded', {
      recoverabilityPolicy: (
        error: unknown,
        failedAttempts: number,
        _config: unknown,
        _random: unknown,
        context?: { earlierAttemptsFailedCleanly: boolean },
      ) => {
        asked.push({ failedAttempts, clean: context?.earlierAttemptsFailedCleanly, code: (error as { code?: unknown }).code });
        return failedAttempts >= 2 ? { action: 'dead-letter', reason: 'MAILROOM_ERR_CRASH_LOOP' } : { action: 'retry', delayMs: 0 };
      },
    }).on(OrderPlaced, () => {
      runs++;
    });
    await worker.start();
    await until(() => broker.queueInfos().find((q) => q.endpoint === 'guarded')?.deadLetters === 1);
    expect(runs).toBe(0);
    expect(asked).toEqual([{ failedAttempts: 2, clean: false, code: ErrorCodes.HANDLER_FAILED }]);
    const [letter] = await broker.deadLetters.list({ endpoint: 'guarded' });
    expect(letter).toMatchObject({ reason: 'MAILROOM_ERR_CRASH_LOOP', attempts: 3 });
    expect(letter?.errorMessage).toContain('without its handler failing cleanly');
  });

  it('tells a custom policy that a handler which threw failed cleanly', async () => {
    const { endpoint, broker } = setup();
    const clean: (boolean | undefined)[] = [];
    const worker = endpoint('told', {
      recoverabilityPolicy: (
        _error: unknown,
        failedAttempts: number,
        _config: unknown,
        _random: unknown,
        context?: { earlierAttemptsFailedCleanly: boolean },
      ) => {
        clean.push(context?.earlierAttemptsFailedCleanly);
        return failedAttempts >= 2 ? { action: 'dead-letter', reason: ErrorCodes.HANDLER_FAILED } : { action: 'retry', delayMs: 0 };
      },
    }).on(OrderPlaced, () => {
      throw new Error('fails cleanly');
    });
    await worker.start();
    await worker.publish(OrderPlaced, { orderId: 'o', qty: 1 });
    await until(() => broker.queueInfos().find((q) => q.endpoint === 'told')?.deadLetters === 1);
    expect(clean).toEqual([true, true]);
  });

  it('settles a failed delivery even when a custom recoverability policy throws or answers nonsense', async () => {
    const { endpoint, broker } = setup();
    const policies = [
      () => {
        throw new Error('policy bug');
      },
      () => undefined as never,
    ];
    for (const [index, recoverabilityPolicy] of policies.entries()) {
      const name = `worker-${index}`;
      const worker = endpoint(name, { recoverabilityPolicy }).on(OrderPlaced, () => {
        throw new Error('handler failed');
      });
      await worker.start();
      await worker.publish(OrderPlaced, { orderId: name, qty: 1 });
      await until(() => broker.queueInfos().find((q) => q.endpoint === name)?.deadLetters === 1);
      expect(broker.queueInfos().find((q) => q.endpoint === name)).toMatchObject({ depth: 0, inFlight: 0 });
    }
  });

  it('returns a delivery to the queue when processing fails unexpectedly outside the handler (here a logger that throws while retrying)', async () => {
    const { endpoint, broker } = setup();
    const quiet = () => undefined;
    const logger: Logger = {
      trace: quiet,
      debug: quiet,
      info: quiet,
      error: quiet,
      warn: () => {
        throw new Error('log sink down');
      },
      child: () => logger,
    };
    let calls = 0;
    const worker = endpoint('unsettled', { logger, recoverability: { immediateRetries: 1, delayedRetries: 0 } }).on(OrderPlaced, () => {
      calls += 1;
      if (calls === 1) throw new Error('first attempt fails');
    });
    await worker.start();
    await worker.publish(OrderPlaced, { orderId: 'u1', qty: 1 });
    await until(() => calls === 2);
    await until(() => broker.queueInfos().find((q) => q.endpoint === 'unsettled')?.inFlight === 0);
    expect(broker.queueInfos().find((q) => q.endpoint === 'unsettled')).toMatchObject({ depth: 0, inFlight: 0, deadLetters: 0 });
  });

  it('fails fast on configuration mistakes, saying what to fix', () => {
    const transport = createMemoryTransport();
    expect(() => createEndpoint({ name: 'Bad Name', transport })).toThrow(/Invalid endpoint name/);
    expect(() => createEndpoint({ name: 'ok', transport: {} as Transport })).toThrow(/must be a Mailroom transport/);
    expect(() => createEndpoint({ name: 'ok', transport, concurrency: 0 })).toThrow(/concurrency must be a whole number >= 1/);
    expect(() => createEndpoint({ name: 'ok', transport, recoverability: { delayedRetries: 1.5 } })).toThrow(/delayedRetries/);
    const endpoint = createEndpoint({ name: 'ok', transport }).on(OrderPlaced, () => undefined);
    expect(() => endpoint.on(OrderPlaced, () => undefined)).toThrow(/already has a handler/);
    expect(() => endpoint.on({} as never, () => undefined)).toThrow(expect.objectContaining({ code: ErrorCodes.ENDPOINT_CONFIG }));
  });

  it('resolves a second start() only once consuming has begun, and a stop() called while starting stops it', async () => {
    const { endpoint, broker } = setup();
    const worker = endpoint('worker').on(OrderPlaced, () => undefined);
    const first = worker.start();
    const second = worker.start();
    let firstDone = false;
    void first.then(() => (firstDone = true));
    await second;
    expect(firstDone).toBe(true);
    expect(worker.running).toBe(true);
    await worker.stop();

    const late = endpoint('late').on(OrderPlaced, () => undefined);
    const starting = late.start();
    await late.stop();
    await starting;
    expect(late.running).toBe(false);
    expect(broker.queueInfos().find((q) => q.endpoint === 'late')?.consumers).toBe(0);
  });

  it('refuses handler registration after start', async () => {
    const { endpoint } = setup();
    const app = endpoint('app').on(OrderPlaced, () => undefined);
    await app.start();
    expect(() => app.on(PaymentAuthorized, () => undefined)).toThrow(expect.objectContaining({ code: ErrorCodes.ENDPOINT_STATE }));
  });

  it('without an OpenTelemetry SDK passes the incoming traceparent on to the messages a handler sends and binds its trace id to ctx.log', async () => {
    const { endpoint } = setup();
    const bindings: Record<string, unknown>[] = [];
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const paid: string[] = [];
    const payments = endpoint('payments', { logger: recordingLogger(bindings) }).on(OrderPlaced, async (message, ctx) => {
      ctx.log.info({}, 'paying');
      await ctx.publish(PaymentAuthorized, { orderId: message.orderId });
    });
    const shipping = endpoint('shipping').on(PaymentAuthorized, (_message, ctx) => void paid.push(ctx.envelope.traceparent ?? 'none'));
    await payments.start();
    await shipping.start();
    const envelope = await endpoint('orders').publish(OrderPlaced, { orderId: 'o1', qty: 1 }, { traceparent: parent });
    expect(envelope.traceparent).toBe(parent);
    await until(() => paid.length === 1);
    expect(paid).toEqual([parent]);
    expect(bindings.find((b) => b.messageId === envelope.id)).toMatchObject({ trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7' });
  });

  it('makes the child logger of a delivery only when it is first used, with the bindings and arguments an eager child would get', async () => {
    const { endpoint } = setup();
    const children: Record<string, unknown>[] = [];
    const lines: LoggedLine[] = [];
    const seen: string[] = [];
    const app = endpoint('app', { logger: recordingLogger(children, lines) }).on(OrderPlaced, (message, ctx) => {
      seen.push(message.orderId);
      if (message.orderId === 'loud') {
        ctx.log.info({ step: 1 }, 'first');
        ctx.log.info({ step: 2 });
      }
    });
    await app.start();
    const quiet = await app.publish(OrderPlaced, { orderId: 'quiet', qty: 1 });
    await until(() => seen.length === 1);
    expect(children.filter((b) => 'messageId' in b)).toEqual([]);
    const loud = await app.publish(OrderPlaced, { orderId: 'loud', qty: 1 }, { correlationId: 'c-1' });
    await until(() => lines.length === 2);
    const made = children.filter((b) => 'messageId' in b);
    expect(made).toEqual([{ endpoint: 'app', messageId: loud.id, type: OrderPlaced.type, correlationId: 'c-1', attempt: 1 }]);
    expect(lines).toEqual([
      { bindings: made[0], args: [{ step: 1 }, 'first'] },
      { bindings: made[0], args: [{ step: 2 }] },
    ]);
    expect(quiet.id).not.toBe(loud.id);
    await app.stop();
  });
});

describe('the delivery bound and failures to dead-letter', () => {
  /** A memory transport whose dead-lettering fails (the message stays queued) and which does not know `maxDeliveries`, as a transport of another vendor might. */
  function failingDeadLetters(inner: Transport, failures: { count: number }): Transport {
    return {
      ...inner,
      subscribe: (options, handler) =>
        inner.subscribe({ ...options, maxDeliveries: 1000 }, (delivery) =>
          handler({
            ...delivery,
            deadLetter: async (request) => {
              if (request.reason === ErrorCodes.TRANSPORT_DELIVERY_LIMIT) return delivery.deadLetter(request);
              failures.count += 1;
              await delivery.retry(0, request);
              throw new Error('the dead-letter queue refused the message');
            },
          }),
        ),
    };
  }

  it('logs a failure to dead-letter at error level with MAILROOM_ERR_DEAD_LETTER_FAILED, then parks the message past maxDeliveries, even on a transport that ignores the bound', async () => {
    const broker = new MemoryBroker();
    const failures = { count: 0 };
    const transport = failingDeadLetters(createMemoryTransport({ broker }), failures);
    const lines: { level: string; fields: Record<string, unknown> }[] = [];
    const logger: Logger = {
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: (fields) => lines.push({ level: 'warn', fields: fields as Record<string, unknown> }),
      error: (fields) => lines.push({ level: 'error', fields: fields as Record<string, unknown> }),
      child: () => logger,
    };
    const handled: number[] = [];
    const worker = createEndpoint({ name: 'bounded', transport, logger, maxDeliveries: 3 }).on(OrderPlaced, (_order, ctx) => {
      handled.push(ctx.attempt);
      throw new UnrecoverableError('refused for good');
    });
    await worker.start();
    cleanups.push(() => worker.stop({ timeoutMs: 100 }));
    const { id } = await worker.publish(OrderPlaced, { orderId: 'o-1', qty: 1 });
    await until(() => lines.some((line) => line.fields.reason === ErrorCodes.TRANSPORT_DELIVERY_LIMIT), 10_000);
    const [letter] = await transport.deadLetters.list({ endpoint: 'bounded' });
    expect(letter?.messageId).toBe(id);
    expect(letter?.reason).toBe(ErrorCodes.TRANSPORT_DELIVERY_LIMIT);
    expect(letter?.attempts).toBe(4);
    expect(handled).toEqual([1, 2, 3]);
    const refused = lines.filter((line) => line.fields.code === ErrorCodes.DEAD_LETTER_FAILED);
    expect(failures.count).toBe(3);
    expect(refused.length).toBe(3);
    expect(refused.every((line) => line.level === 'error' && line.fields.messageId === id)).toBe(true);
  });

  it('passes maxDeliveries to the transport: by default the most attempts a handler allows, plus 10', async () => {
    const broker = new MemoryBroker();
    const inner = createMemoryTransport({ broker });
    const seen: (number | undefined)[] = [];
    const transport: Transport = {
      ...inner,
      subscribe: (options, handler) => {
        seen.push(options.maxDeliveries);
        return inner.subscribe(options, handler);
      },
    };
    const a = createEndpoint({ name: 'defaults', transport }).on(OrderPlaced, () => undefined);
    const b = createEndpoint({ name: 'custom', transport, recoverability: { immediateRetries: 1, delayedRetries: 0 } })
      .on(OrderPlaced, () => undefined)
      .on(PaymentAuthorized, () => undefined, { recoverability: { delayedRetries: 20 } });
    const c = createEndpoint({ name: 'explicit', transport, maxDeliveries: 5 }).on(OrderPlaced, () => undefined);
    for (const endpoint of [a, b, c]) {
      await endpoint.start();
      cleanups.push(() => endpoint.stop({ timeoutMs: 100 }));
    }
    expect(seen).toEqual([17, 32, 5]);
    expect(() => createEndpoint({ name: 'bad', transport, maxDeliveries: 0 })).toThrow(/maxDeliveries/);
  });
});

interface LoggedLine {
  bindings: Record<string, unknown>;
  args: unknown[];
}

/** A logger recording the bindings of every child made of it (and of its children) and, into `lines`, the info lines with their bindings. */
function recordingLogger(children: Record<string, unknown>[], lines: LoggedLine[] = [], bound: Record<string, unknown> = {}): Logger {
  return {
    trace: () => undefined,
    debug: () => undefined,
    info: (...args: unknown[]) => void lines.push({ bindings: bound, args }),
    warn: () => undefined,
    error: () => undefined,
    child: (more) => {
      const all = { ...bound, ...more };
      children.push(all);
      return recordingLogger(children, lines, all);
    },
  };
}
