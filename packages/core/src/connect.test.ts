import { describe, expect, it } from 'vitest';
import { connectTransport, redactUrl, transportScheme } from './connect.js';
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

  it('never shows a password', () => {
    expect(redactUrl('amqp://user:s3cret@host:5672/vhost')).toBe('amqp://user:***@host:5672/vhost');
    expect(redactUrl('amqps://u:p%40ss@host')).not.toContain('p%40ss');
    expect(redactUrl('nats://token@host:4222')).not.toContain('token');
    expect(redactUrl('not a url://a:b@c')).not.toContain(':b@');
  });
});
