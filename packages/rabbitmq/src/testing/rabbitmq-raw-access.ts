import type { HostileCase, RawAccess } from '@mailroom/conformance';
import { ErrorCodes } from '@mailroom/core';
import { connect } from 'amqplib';
import { RabbitMqErrorCodes } from '../errors.js';
import { Bookkeeping } from '../headers.js';

const text = (value: string) => new TextEncoder().encode(value);

/**
 * Raw access to RabbitMQ for the conformance suite's hostile-message tests: publishes with amqplib
 * on a confirm channel straight into an endpoint's queue (default exchange), headers as AMQP table
 * values of any type, so forged bookkeeping headers and non-string values reach the transport.
 */
export function rabbitMqRawAccess(url: string, queueName: (endpoint: string) => string = (endpoint) => endpoint): RawAccess {
  return {
    async connect() {
      const connection = await connect(url);
      const channel = await connection.createConfirmChannel();
      return {
        async inject(endpoint, _type, message) {
          if (typeof message.headers === 'string') throw new Error('RabbitMQ carries headers as an AMQP table, not a text');
          channel.publish('', queueName(endpoint), Buffer.from(message.body), { headers: { ...message.headers }, persistent: true });
          await channel.waitForConfirms();
        },
        async close() {
          await connection.close().catch(() => undefined);
        },
      };
    },
    cases: rabbitMqHostileCases(),
    refuses: { 'oversize headers': 'amqplib encodes at most 64 KiB of headers (its field-table buffer), below the 64 KiB of characters an endpoint accepts' },
  };
}

/** `headers` without the attributes the compact form packs into `x-mailroom-envelope`. */
function withoutPacked(headers: Readonly<Record<string, string>>): Record<string, string> {
  const { 'ce-specversion': _specversion, 'ce-dataversion': _dataversion, 'ce-time': _time, ...rest } = headers;
  return rest;
}

/** Hostile messages only RabbitMQ can carry: forged bookkeeping headers, typed header values, headers that fill a frame. */
function rabbitMqHostileCases(): HostileCase[] {
  return [
    {
      // Issue 13: redelivered 94,072 times in 80 s before the fix (toISOString threw in the dead-letter path).
      name: 'absurd numeric x-mailroom-first-failure-at',
      build: (valid) => ({ headers: { ...valid, [Bookkeeping.firstFailureAt]: 1e17 }, body: text('{"n": 1, "case": "absurd first failure",') }),
      reasons: [ErrorCodes.CODEC_MALFORMED],
    },
    {
      name: 'absurd x-mailroom-first-failure-at as text',
      build: (valid) => ({
        headers: { ...valid, [Bookkeeping.firstFailureAt]: '99999999999999999' },
        body: text('{"n": "x", "case": "absurd first failure text"}'),
      }),
      reasons: [ErrorCodes.CONTRACT_VALIDATION],
    },
    {
      name: 'forged x-mailroom-attempts',
      build: (valid) => ({ headers: { ...valid, [Bookkeeping.attempts]: 1e300 }, body: text('{"n": 1, "case": "forged attempts",') }),
      reasons: [ErrorCodes.CODEC_MALFORMED],
    },
    {
      name: 'negative x-mailroom-attempts',
      build: (valid) => ({ headers: { ...valid, [Bookkeeping.attempts]: '-5' }, body: text('{"n": 1, "case": "negative attempts",') }),
      reasons: [ErrorCodes.CODEC_MALFORMED],
    },
    {
      name: 'typed header values',
      build: (valid) => ({
        headers: { ...valid, 'ce-specversion': 1, 'x-table': { nested: [1, 'two'] }, 'x-bool': true, 'x-bytes': Buffer.from([0xff, 0xfe]) },
        body: text('{"n": 1, "case": "typed headers"}'),
      }),
      reasons: [ErrorCodes.ENVELOPE_INVALID],
    },
    {
      // The compact envelope form with a marker that does not parse: its packed attributes are not
      // guessed, so the envelope misses ce-specversion, ce-dataversion and ce-time.
      name: 'malformed x-mailroom-envelope',
      build: (valid) => ({ headers: { ...withoutPacked(valid), [Bookkeeping.envelope]: '9 1.0 1' }, body: text('{"n": 1, "case": "malformed envelope"}') }),
      reasons: [ErrorCodes.ENVELOPE_INVALID],
    },
    {
      name: 'x-mailroom-envelope as a table',
      build: (valid) => ({ headers: { ...withoutPacked(valid), [Bookkeeping.envelope]: { form: 1 } }, body: text('{"n": 1, "case": "table envelope"}') }),
      reasons: [ErrorCodes.ENVELOPE_INVALID],
    },
    {
      // Large headers: the dead letter's copy with the full failure details does not fit in the
      // header table amqplib encodes (64 KiB), so it goes with the details cut.
      name: 'headers that leave little room for the failure details',
      build: (valid) => ({ headers: { ...valid, 'x-fill': 'f'.repeat(64_500) }, body: text('{"n": 1, "case": "details cut",') }),
      reasons: [ErrorCodes.CODEC_MALFORMED],
      errorMessage: /details cut/,
    },
    {
      // Headers as large as amqplib can encode: no copy with failure details fits, even cut, so
      // RabbitMQ dead-letters the original itself (the queue's dead-letter exchange), verbatim.
      name: 'headers that leave no room for the failure details',
      build: (valid) => ({ headers: { ...valid, 'x-fill': 'f'.repeat(65_100) }, body: text('{"n": 1, "case": "headers fill the table",') }),
      reasons: [RabbitMqErrorCodes.BROKER_DEAD_LETTERED],
      errorMessage: /reason: rejected/,
    },
  ];
}
