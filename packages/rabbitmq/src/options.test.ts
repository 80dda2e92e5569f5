import { type ErrorCode, ErrorCodes, isMailroomError } from '@mailroom/core';
import { describe, expect, it } from 'vitest';
import { type RabbitMqTransportOptions, resolveOptions, withHeartbeat } from './options.js';

const SECRET = 'sEcReT-pa55';
const URL = 'amqp://guest:guest@127.0.0.1:5672';

describe('options', () => {
  it('fills in defaults', () => {
    const options = resolveOptions({ url: URL });
    expect(options).toMatchObject({ namespace: 'mailroom', queueType: 'quorum', confirmTimeoutMs: 15_000, unavailableTimeoutMs: 30_000, maxUnconfirmed: 1000 });
    expect(options.queueName('billing')).toBe('billing');
  });

  it('fails fast with MAILROOM_ERR_TRANSPORT_CONFIG or _URL, saying what to fix and hiding the password', () => {
    const cases: [RabbitMqTransportOptions, ErrorCode, RegExp][] = [
      [{}, ErrorCodes.TRANSPORT_CONFIG, /exactly one of url/],
      [{ url: URL, connection: {} as never }, ErrorCodes.TRANSPORT_CONFIG, /exactly one of url/],
      [{ connection: {} as never }, ErrorCodes.TRANSPORT_CONFIG, /must be an amqplib connection/],
      [{ url: `http://u:${SECRET}@host` }, ErrorCodes.TRANSPORT_URL, /scheme must be amqp:\/\/ or amqps:\/\//],
      [{ url: `amqp://u:${SECRET}@` }, ErrorCodes.TRANSPORT_URL, /amqp:/],
      [{ url: URL, queueType: 'stream' as never }, ErrorCodes.TRANSPORT_CONFIG, /queueType must be "quorum" or "classic"/],
      [{ url: URL, confirmTimeoutMs: 0 }, ErrorCodes.TRANSPORT_CONFIG, /confirmTimeoutMs must be a number > 0/],
      [{ url: URL, maxUnconfirmed: 1.5 }, ErrorCodes.TRANSPORT_CONFIG, /maxUnconfirmed must be a whole number/],
      [{ url: URL, namespace: 'has space' }, ErrorCodes.TRANSPORT_CONFIG, /namespace must be/],
      [{ url: URL, queueName: 'orders' as never }, ErrorCodes.TRANSPORT_CONFIG, /queueName must be a function/],
    ];
    for (const [options, code, message] of cases) {
      let error: unknown;
      try {
        resolveOptions(options);
      } catch (e) {
        error = e;
      }
      expect(isMailroomError(error, code), `${String(error)} for ${JSON.stringify(options)}`).toBe(true);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain(SECRET);
    }
  });

  it('asks for a heartbeat unless the URL sets one', () => {
    expect(withHeartbeat('amqp://h/vhost', 10)).toBe('amqp://h/vhost?heartbeat=10');
    expect(withHeartbeat('amqp://h?heartbeat=30', 10)).toBe('amqp://h?heartbeat=30');
  });
});
