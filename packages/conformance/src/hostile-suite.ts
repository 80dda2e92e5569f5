import { createHash } from 'node:crypto';
import {
  createEndpoint,
  createEnvelope,
  type DeadLetter,
  type Delivery,
  defineEvent,
  ErrorCodes,
  envelopeToHeaders,
  HeaderNames,
  type OutgoingMessage,
} from '@mailroom/core';
import { expect } from 'vitest';
import { numberSchema, pollFor, type Scope, sleep, uniqueName, waitUntil } from './helpers.js';

/** A message as a broker holds it, put into a queue without going through `Transport.publish`. */
export interface RawMessage {
  /**
   * The headers as the adapter's own client carries them: usually strings, but a hostile producer
   * may send numbers, booleans or bytes where the client allows them. A string stands for the whole
   * header block where the adapter stores one (the SQLite transport's `headers` column).
   */
  readonly headers: Readonly<Record<string, unknown>> | string;
  readonly body: Uint8Array;
}

/** A raw client of the broker under test. */
export interface RawInjector {
  /**
   * Puts `message` into the queue of `endpoint` (declared by a running subscription) as a command
   * of `type` would arrive there, through the adapter's own client, as a foreign or hostile
   * producer could. Resolves once the broker stored it.
   */
  inject(endpoint: string, type: string, message: RawMessage): Promise<void>;
  close(): Promise<void>;
}

/** One hostile message and what must become of it. */
export interface HostileCase {
  readonly name: string;
  /** Builds the raw message from valid envelope headers (of a type the endpoint handles, version 2). */
  build(valid: Readonly<Record<string, string>>): RawMessage;
  /** The dead-letter reasons accepted for it (`MAILROOM_ERR_*` codes). */
  readonly reasons: readonly string[];
  /** What the dead letter's error message must say, when that matters (which path stored it). */
  readonly errorMessage?: RegExp;
}

/** How the suite reaches the broker under test without the transport. */
export interface RawAccess {
  /** Opens a raw client of the broker. */
  connect(): Promise<RawInjector>;
  /** Hostile cases only this adapter can build (its bookkeeping headers, its storage), run with the common corpus. */
  readonly cases?: readonly HostileCase[];
  /**
   * Common cases the adapter's client cannot put into the broker at all, by name, with why (amqplib
   * encodes at most 64 KiB of headers, say). The suite checks that `inject` really rejects them.
   */
  readonly refuses?: Readonly<Record<string, string>>;
}

/** The largest body the endpoint under the hostile tests accepts. */
export const HOSTILE_MAX_MESSAGE_BYTES = 256 * 1024;

const text = (value: string) => new TextEncoder().encode(value);
/** A valid body `{ n: 1 }` (the suite's contract) marked with the case's name, so its dead letter can be found. */
const validBody = (name: string) => text(JSON.stringify({ n: 1, case: name }));
const withHeaders =
  (name: string, change: (valid: Record<string, string>) => Record<string, unknown>, body?: Uint8Array) =>
  (valid: Readonly<Record<string, string>>): RawMessage => ({ headers: change({ ...valid }), body: body ?? validBody(name) });

function hostile(name: string, reasons: string[], build: HostileCase['build']): HostileCase {
  return { name, reasons, build };
}

/**
 * The hostile-message corpus every transport's endpoint must dead-letter at the first attempt, with
 * a readable reason, without crashing and without disturbing the good messages around them: bodies
 * that are not JSON, not UTF-8, empty, too large, too deep, carrying `__proto__`, invalid for the
 * schema; headers missing, malformed, oversize, absurd.
 */
export function hostileCorpus(): HostileCase[] {
  const { CODEC_MALFORMED, CODEC_TOO_LARGE, CONTRACT_VALIDATION, CONTRACT_UNKNOWN_VERSION, CONTRACT_UNKNOWN_TYPE, ENVELOPE_INVALID } = ErrorCodes;
  const deep = 100_000;
  return [
    hostile(
      'invalid JSON',
      [CODEC_MALFORMED],
      withHeaders('', (h) => h, text('{"n": 1, "case": "invalid JSON",')),
    ),
    hostile(
      'schema-invalid',
      [CONTRACT_VALIDATION],
      withHeaders('', (h) => h, text('{"n": "one", "case": "schema-invalid"}')),
    ),
    hostile(
      '__proto__ key',
      [CODEC_MALFORMED],
      withHeaders('', (h) => h, text('{"n": 1, "case": "__proto__", "__proto__": {"polluted": true}}')),
    ),
    hostile(
      'constructor.prototype key',
      [CODEC_MALFORMED],
      withHeaders('', (h) => h, text('{"n": 1, "case": "ctor", "constructor": {"prototype": {"x": 1}}}')),
    ),
    hostile(
      `${deep}-deep nesting`,
      [CONTRACT_VALIDATION, CODEC_MALFORMED, CODEC_TOO_LARGE],
      withHeaders('', (h) => h, text(`${'['.repeat(deep)}${']'.repeat(deep)}`)),
    ),
    hostile(
      'deeply nested object',
      [CONTRACT_VALIDATION, CODEC_MALFORMED, CODEC_TOO_LARGE],
      withHeaders('', (h) => h, text(`${'{"a":'.repeat(40_000)}1${'}'.repeat(40_000)}`)),
    ),
    hostile(
      'oversize body',
      [CODEC_TOO_LARGE],
      withHeaders('', (h) => h, text(JSON.stringify({ n: 1, case: 'oversize', pad: 'x'.repeat(HOSTILE_MAX_MESSAGE_BYTES) }))),
    ),
    hostile(
      'invalid UTF-8',
      [CODEC_MALFORMED],
      withHeaders('', (h) => h, new Uint8Array([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0xff, 0xfe, 0xc3, 0x28, 0x7d])),
    ),
    hostile(
      'empty body',
      [CODEC_MALFORMED],
      withHeaders('', (h) => h, new Uint8Array()),
    ),
    hostile('no headers at all', [ENVELOPE_INVALID], () => ({ headers: {}, body: validBody('no headers') })),
    hostile(
      'no ce-id',
      [ENVELOPE_INVALID],
      withHeaders('no ce-id', ({ [HeaderNames.id]: _, ...h }) => h),
    ),
    hostile(
      'garbage specversion',
      [ENVELOPE_INVALID],
      withHeaders('garbage specversion', (h) => ({ ...h, [HeaderNames.specversion]: 'banana\u0000' })),
    ),
    hostile(
      'garbage time',
      [ENVELOPE_INVALID],
      withHeaders('garbage time', (h) => ({ ...h, [HeaderNames.time]: 'not a time' })),
    ),
    hostile(
      'non-JSON content type',
      [ENVELOPE_INVALID],
      withHeaders('content type', (h) => ({ ...h, [HeaderNames.datacontenttype]: 'application/x-evil' })),
    ),
    hostile(
      'oversize headers',
      [CODEC_TOO_LARGE, ENVELOPE_INVALID],
      withHeaders('oversize headers', (h) => ({ ...h, 'x-huge': 'h'.repeat(70 * 1024) })),
    ),
    hostile(
      'oversize ce-id',
      [ENVELOPE_INVALID],
      withHeaders('oversize ce-id', (h) => ({ ...h, [HeaderNames.id]: 'i'.repeat(5000) })),
    ),
    hostile(
      'dataversion 99',
      [CONTRACT_UNKNOWN_VERSION],
      withHeaders('dataversion 99', (h) => ({ ...h, [HeaderNames.dataversion]: '99' })),
    ),
    hostile(
      'dataversion "abc"',
      [ENVELOPE_INVALID],
      withHeaders('dataversion abc', (h) => ({ ...h, [HeaderNames.dataversion]: 'abc' })),
    ),
    hostile(
      'absurd dataversion',
      [ENVELOPE_INVALID],
      withHeaders('absurd dataversion', (h) => ({ ...h, [HeaderNames.dataversion]: '99999999999999999999' })),
    ),
    hostile(
      'time beyond the Date range',
      [ENVELOPE_INVALID],
      withHeaders('time beyond range', (h) => ({ ...h, [HeaderNames.time]: '+275760-09-13T00:00:00.001Z' })),
    ),
    hostile(
      'unknown type',
      [CONTRACT_UNKNOWN_TYPE],
      withHeaders('unknown type', (h) => ({ ...h, [HeaderNames.type]: `${h[HeaderNames.type]}.Unknown` })),
    ),
  ];
}

/** What the hostile tests need from the transport suite. */
export interface HostileSuiteContext {
  readonly raw: RawAccess;
  /** Scales a waiting time. */
  readonly ms: (n: number) => number;
}

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The contract of the hostile tests: version 2 of `{ n: number }`, with an upcaster from 1. */
function strictContract(type: string) {
  return defineEvent(type, { version: 2, schema: numberSchema(), upcast: { 1: (v: { n: number }) => ({ n: v.n }) } });
}

/**
 * Injects every hostile case (common corpus + the adapter's own) into an endpoint's queue between
 * good messages, through the adapter's raw client. Every hostile message must be dead-lettered at
 * attempt 1 with an expected reason, a readable message and its body intact; every good message
 * handled exactly once; nothing else dead-lettered.
 */
export async function runHostileCorpus(scope: Scope, context: HostileSuiteContext): Promise<void> {
  const { raw, ms } = context;
  const transport = await scope.connectAdmin();
  const type = uniqueName('Hostile');
  const contract = strictContract(type);
  const name = uniqueName('hostile');
  const endpoint = createEndpoint({ name, transport, maxMessageBytes: HOSTILE_MAX_MESSAGE_BYTES, recoverability: { immediateRetries: 2, delayedRetries: 0 } });
  scope.onDispose(() => endpoint.stop({ timeoutMs: 100 }));
  const handled = new Map<number, number>();
  endpoint.on(contract, async (message) => {
    handled.set(message.n, (handled.get(message.n) ?? 0) + 1);
  });
  await endpoint.start();
  const injector = await raw.connect();
  scope.onDispose(() => injector.close());

  const cases = [...hostileCorpus(), ...(raw.cases ?? [])];
  const expected = new Map<string, HostileCase>();
  const good = (n: number) => endpoint.publish(contract, { n });
  let n = 0;
  for (let i = 0; i < 25; i++) await good(++n);
  for (const hostileCase of cases) {
    const valid = validHeaders(type);
    const message = hostileCase.build(valid);
    const key = sha(message.body);
    if (expected.has(key)) throw new Error(`hostile cases "${expected.get(key)?.name}" and "${hostileCase.name}" have the same body; give each its own`);
    const refusal = raw.refuses?.[hostileCase.name];
    if (refusal !== undefined) {
      await expect(injector.inject(name, type, message), `the raw client refuses "${hostileCase.name}" (${refusal})`).rejects.toBeDefined();
      continue;
    }
    expected.set(key, hostileCase);
    await injector.inject(name, type, message);
    await good(++n);
  }
  for (let i = 0; i < 25; i++) await good(++n);

  const letters = await pollFor(
    () => transport.deadLetters.list({ endpoint: name }),
    (list) => list.length >= expected.size && handled.size === n,
    ms(60_000),
    (list) => {
      const seen = new Set(list.map((letter) => sha(letter.body)));
      const missing = [...expected].filter(([key]) => !seen.has(key)).map(([, c]) => c.name);
      return `${list.length}/${expected.size} dead letters (missing: ${missing.join(', ') || 'none'}), ${handled.size}/${n} good messages handled`;
    },
  );
  await sleep(ms(300));
  const found = new Map<string, DeadLetter>();
  for (const summary of await transport.deadLetters.list({ endpoint: name })) {
    const letter = await transport.deadLetters.get(summary.id);
    const hostileCase = expected.get(sha(letter.body));
    expect(hostileCase, `a dead letter whose body matches no hostile case (reason ${letter.reason}: ${letter.errorMessage})`).toBeDefined();
    if (!hostileCase) continue;
    expect(found.has(hostileCase.name), `"${hostileCase.name}" dead-lettered once`).toBe(false);
    found.set(hostileCase.name, letter);
  }
  for (const hostileCase of expected.values()) {
    const letter = found.get(hostileCase.name);
    expect(letter, `"${hostileCase.name}" is dead-lettered`).toBeDefined();
    if (!letter) continue;
    expect(hostileCase.reasons, `reason of "${hostileCase.name}" (${letter.errorMessage})`).toContain(letter.reason);
    expect(letter.attempts, `"${hostileCase.name}" dead-lettered at attempt 1`).toBe(1);
    expect(letter.errorMessage.length, `"${hostileCase.name}" has an error message`).toBeGreaterThan(0);
    if (hostileCase.errorMessage) expect(letter.errorMessage, `error message of "${hostileCase.name}"`).toMatch(hostileCase.errorMessage);
    expect(letter.errorMessage.length).toBeLessThanOrEqual(20_000);
    expect(Number.isNaN(letter.deadLetteredAt.getTime())).toBe(false);
    expect(letter.firstFailureAt.getTime()).toBeLessThanOrEqual(letter.lastFailureAt.getTime());
  }
  expect(letters.length).toBeGreaterThanOrEqual(expected.size);
  expect(
    [...handled.entries()].filter(([, count]) => count !== 1),
    'every good message handled exactly once',
  ).toEqual([]);
  expect(endpoint.running).toBe(true);
}

function validHeaders(type: string): Record<string, string> {
  return envelopeToHeaders(createEnvelope({ type, dataversion: 2, source: 'urn:mailroom:conformance-hostile' }));
}

/**
 * Subscribes with `maxDeliveries: 3` and a handler that always retries: the message reaches the
 * handler 3 times, then the transport parks it with `MAILROOM_ERR_TRANSPORT_DELIVERY_LIMIT`,
 * headers and body intact.
 */
export async function runRetryLoopBound(scope: Scope, context: HostileSuiteContext, message: OutgoingMessage): Promise<void> {
  const transport = await scope.connectAdmin();
  const endpoint = message.route.kind === 'command' ? message.route.destination : '';
  const attempts: number[] = [];
  await transport.subscribe({ endpoint, events: [], commands: [message.route.type], concurrency: 1, maxDeliveries: 3 }, async (delivery) => {
    attempts.push(delivery.attempt);
    await delivery.retry(0, { reason: ErrorCodes.HANDLER_FAILED, errorMessage: 'dead-lettering fails, say: back to the queue' });
  });
  await transport.publish(message);
  const [letter] = await pollFor(
    () => transport.deadLetters.list({ endpoint }),
    (list) => list.length === 1,
    context.ms(20_000),
    () => `attempts seen: ${attempts.join(',')}`,
  );
  await sleep(context.ms(300));
  expect(attempts).toEqual([1, 2, 3]);
  expectParked(letter, message, 4);
}

/**
 * A consumer takes the message and dies (its connection closes with the delivery unsettled), over
 * and over: once past `maxDeliveries` the message is parked and no consumer gets it again.
 */
export async function runCrashLoopBound(scope: Scope, context: HostileSuiteContext, message: OutgoingMessage): Promise<void> {
  const publisher = await scope.connect();
  // Opened first: a transport without the management part skips before the crash rounds.
  const survivor = await scope.connectAdmin();
  const endpoint = message.route.kind === 'command' ? message.route.destination : '';
  const options = { endpoint, events: [], commands: [message.route.type], concurrency: 1, maxDeliveries: 2 };
  await publisher.publish(message);
  const attempts: number[] = [];
  for (let round = 0; round < 2; round++) {
    const doomed = await scope.connect();
    const held: Delivery[] = [];
    await doomed.subscribe(options, (delivery) => {
      held.push(delivery);
      attempts.push(delivery.attempt);
    });
    await waitUntil(
      () => held.length === 1,
      context.ms(20_000),
      () => `round ${round}: not delivered`,
    );
    await doomed.close();
  }
  const late: Delivery[] = [];
  await survivor.subscribe(options, async (delivery) => {
    late.push(delivery);
    await delivery.ack();
  });
  const [letter] = await pollFor(
    () => survivor.deadLetters.list({ endpoint }),
    (list) => list.length === 1,
    context.ms(20_000),
    () => `attempts seen: ${attempts.join(',')}`,
  );
  await sleep(context.ms(300));
  expect(attempts).toEqual([1, 2]);
  expect(late, 'no consumer gets the parked message').toEqual([]);
  expectParked(letter, message, 3);
}

function expectParked(letter: DeadLetter | undefined, message: OutgoingMessage, attempts: number): void {
  expect(letter?.reason).toBe(ErrorCodes.TRANSPORT_DELIVERY_LIMIT);
  expect(letter?.attempts).toBe(attempts);
  expect(letter?.messageId).toBe(message.headers[HeaderNames.id]);
  expect(letter?.headers).toEqual(message.headers);
  expect(Buffer.from(letter?.body ?? []).equals(Buffer.from(message.body))).toBe(true);
  expect(letter?.errorMessage).toMatch(/maxDeliveries/);
}
