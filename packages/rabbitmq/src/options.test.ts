import { type ErrorCode, ErrorCodes, isMailroomError } from '@mailroom/core';
import { describe, expect, it } from 'vitest';
import { type RabbitMqTransportOptions, resolveOptions, withHeartbeat } from './options.js';

const SECRET = 'sEcReT-pa55';
const URL = 'amqp://guest:guest@127.0.0.1:5672';

describe('options', () => {
  it('fills in defaults', () => {
    const options = resolveOptions({ url: URL });
    expect(options).toMatchObject({
      namespace: 'mailroom',
      queueType: 'quorum',
      envelopeHeaders: 'compact',
      confirmTimeoutMs: 15_000,
      unavailableTimeoutMs: 30_000,
      maxUnconfirmed: 1000,
    });
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
      [{ url: URL, envelopeHeaders: 'cloudevents' as never }, ErrorCodes.TRANSPORT_CONFIG, /envelopeHeaders must be "compact" \(the default\) or "full"/],
      [{ url: URL, confirmTimeoutMs: 0 }, ErrorCodes.TRANSPORT_CONFIG, /confirmTimeoutMs must be a number > 0/],
      [{ url: URL, maxUnconfirmed: 1.5 }, ErrorCodes.TRANSPORT_CONFIG, /maxUnconfirmed must be a whole number/],
      [{ url: URL, namespace: 'has space' }, ErrorCodes.TRANSPORT_CONFIG, /namespace must be/],
      [{ url: URL, queueName: 'orders' as never }, ErrorCodes.TRANSPORT_CONFIG, /queueName must be a function/],
      [{ url: `amqp://u:${SECRET}@a,b:99999` }, ErrorCodes.TRANSPORT_URL, /not a valid URL/],
      [{ url: [] }, ErrorCodes.TRANSPORT_URL, /at least one node/],
      [{ url: URL, replicas: 0 }, ErrorCodes.TRANSPORT_CONFIG, /replicas must be a number > 0/],
      [{ url: URL, replicas: 3, queueType: 'classic' }, ErrorCodes.TRANSPORT_CONFIG, /replicas needs queueType "quorum"/],
      [{ url: `${URL}?replicas=3`, replicas: 5 }, ErrorCodes.TRANSPORT_CONFIG, /give it once/],
      [{ url: `${URL}?replicas=three` }, ErrorCodes.TRANSPORT_CONFIG, /whole number/],
      [{ url: [`${URL}?replicas=3`, `${URL}?replicas=5`] }, ErrorCodes.TRANSPORT_CONFIG, /different replicas/],
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

  it('reads one URL per node from a URL naming several hosts, or from a list, and replicas from the query', () => {
    const options = resolveOptions({ url: 'amqp://me:p%40ss@h1:5672,h2:5673,[::1]/vh?heartbeat=5&replicas=3' });
    expect(options.urls).toEqual([
      'amqp://me:p%40ss@h1:5672/vh?heartbeat=5',
      'amqp://me:p%40ss@h2:5673/vh?heartbeat=5',
      'amqp://me:p%40ss@[::1]/vh?heartbeat=5',
    ]);
    expect(options.replicas).toBe(3);
    const listed = resolveOptions({ url: ['amqp://a', 'amqps://b:5671,c'], replicas: 5 });
    expect(listed.urls).toEqual(['amqp://a', 'amqps://b:5671', 'amqps://c']);
    expect(listed.replicas).toBe(5);
    expect(resolveOptions({ url: URL }).replicas).toBeUndefined();
  });

  it('asks for a heartbeat unless the URL sets one', () => {
    expect(withHeartbeat('amqp://h/vhost', 10)).toBe('amqp://h/vhost?heartbeat=10');
    expect(withHeartbeat('amqp://h?heartbeat=30', 10)).toBe('amqp://h?heartbeat=30');
  });
});
