import { describe, expect, it } from 'vitest';
import { connectTransport, redactUrl, transportScheme } from './connect.js';
import { createEnvelope, envelopeToHeaders } from './envelope.js';
import { ErrorCodes } from './errors.js';

describe('connectTransport', () => {
  it('picks the adapter from the URL scheme, a plain path meaning SQLite', () => {
    expect(transportScheme('amqp://guest:guest@localhost')).toBe('amqp:');
    expect(transportScheme('NATS://localhost:4222')).toBe('nats:');
    expect(transportScheme('.mailroom/broker.db')).toBe('sqlite:');
    expect(transportScheme('/var/lib/broker.db')).toBe('sqlite:');
    expect(transportScheme('C:\\data\\broker.db')).toBe('sqlite:');
    expect(transportScheme('sqlite:broker.db')).toBe('sqlite:');
  });

  it('connects the memory transport and refuses unknown schemes with a typed error', async () => {
    const memory = await connectTransport('memory:');
    expect(memory.name).toBe('memory');
    await memory.close();
    await expect(connectTransport('kafka://broker:9092')).rejects.toMatchObject({ code: ErrorCodes.TRANSPORT_URL });
    await expect(connectTransport('')).rejects.toMatchObject({ code: ErrorCodes.TRANSPORT_URL, message: expect.stringContaining('MAILROOM_TRANSPORT') });
  });

  it('gives each memory: connection its own broker: a command sent through one is not delivered by another', async () => {
    const [first, second] = [await connectTransport('memory:'), await connectTransport('memory:')];
    const type = 'test.Isolated';
    const subscription = { endpoint: 'isolated', events: [], commands: [type], concurrency: 1 };
    const received: string[] = [];
    await second.subscribe(subscription, async (delivery) => {
      received.push('second');
      await delivery.ack();
    });
    const headers = envelopeToHeaders(createEnvelope({ type, dataversion: 1, source: 'urn:test' }));
    await first.publish({ route: { kind: 'command', type, destination: 'isolated' }, headers, body: new Uint8Array([123, 125]) });
    let delivered!: () => void;
    const firstDelivered = new Promise<void>((resolve) => {
      delivered = resolve;
    });
    await first.subscribe(subscription, async (delivery) => {
      received.push('first');
      await delivery.ack();
      delivered();
    });
    await firstDelivered;
    expect(received).toEqual(['first']);
    await Promise.all([first.close(), second.close()]);
  });

  it('never shows a password', () => {
    expect(redactUrl('amqp://user:s3cret@host:5672/vhost')).toBe('amqp://user:***@host:5672/vhost');
    expect(redactUrl('amqps://u:p%40ss@host')).not.toContain('p%40ss');
    expect(redactUrl('nats://token@host:4222')).not.toContain('token');
    expect(redactUrl('not a url://a:b@c')).not.toContain(':b@');
  });
});
