import { describe, expect, it } from 'vitest';
import { redactSecrets, secretsOf } from './redact-secrets.js';

describe('redactSecrets', () => {
  it('hides passwords, percent-encoded or not, wherever they appear', () => {
    const url = 'amqp://bob:s3cr%2Fet@rabbit:5672/vhost';
    const secrets = secretsOf(url);
    expect(secrets).toEqual(['s3cr%2Fet', 's3cr/et']);
    const text = redactSecrets(`cannot reach ${url}: auth failed for password s3cr/et.`, secrets);
    expect(text).toBe('cannot reach amqp://bob:***@rabbit:5672/vhost: auth failed for password ***.');
  });

  it('hides a NATS token given as the user, and URLs it was never told about', () => {
    expect(redactSecrets('nats://t0ken@host:4222 refused', secretsOf('nats://t0ken@host:4222'))).toBe('nats://***@host:4222 refused');
    expect(redactSecrets('see amqps://u:p4ss@h/ now', [])).toBe('see amqps://u:***@h/ now');
  });

  it('leaves paths and credential-free URLs alone', () => {
    expect(secretsOf('./data/broker.db')).toEqual([]);
    expect(secretsOf('nats://127.0.0.1:4222')).toEqual([]);
    expect(redactSecrets('file /tmp/x.db and nats://127.0.0.1:4222.', [])).toBe('file /tmp/x.db and nats://127.0.0.1:4222.');
  });
});
