import { describe, expect, it } from 'vitest';
import { NodeRotation } from './node-rotation.js';
import { amqpAddress, splitNodeUrls, takeReplicasParam } from './node-urls.js';

describe('node URLs', () => {
  it('gives amqplib the fields its string URL parsing would read', () => {
    expect(amqpAddress('amqps://me%3Aa:p%40ss@host.example/my%2Fvhost?heartbeat=7&frameMax=8192&channelMax=10&locale=en_GB')).toEqual({
      protocol: 'amqps',
      hostname: 'host.example',
      port: 5671,
      username: 'me:a',
      password: 'p@ss',
      vhost: 'my%2Fvhost',
      heartbeat: 7,
      frameMax: 8192,
      channelMax: 10,
      locale: 'en_GB',
    });
    expect(amqpAddress('amqp://[::1]:5673')).toMatchObject({ hostname: '::1', port: 5673, username: undefined, password: undefined, vhost: undefined });
  });

  it('splits only the host list, keeping credentials, path, query and fragment', () => {
    expect(splitNodeUrls('amqp://h')).toEqual(['amqp://h']);
    expect(splitNodeUrls('amqp://u:p@a:1, b:2/v?x=1')).toEqual(['amqp://u:p@a:1/v?x=1', 'amqp://u:p@b:2/v?x=1']);
    expect(takeReplicasParam('amqp://a,b/v?heartbeat=5&replicas=3#f')).toEqual({ url: 'amqp://a,b/v?heartbeat=5#f', replicas: '3' });
    expect(takeReplicasParam('amqp://a?replicas=3')).toEqual({ url: 'amqp://a', replicas: '3' });
    expect(takeReplicasParam('amqp://a?heartbeat=5')).toEqual({ url: 'amqp://a?heartbeat=5', replicas: undefined });
  });

  it('moves the address amqplib dials to the next node in turn, passwords redacted in what it shows', () => {
    const rotation = new NodeRotation(['amqp://u:secret@a:1', 'amqp://u:secret@b:2']);
    const { target } = rotation;
    expect([target.hostname, target.port, rotation.current]).toEqual(['a', 1, 'amqp://u:***@a:1']);
    rotation.next();
    expect([target.hostname, target.port, rotation.current]).toEqual(['b', 2, 'amqp://u:***@b:2']);
    rotation.next();
    expect([target.hostname, target.port]).toEqual(['a', 1]);
    expect(rotation.where).toBe('amqp://u:***@a:1, amqp://u:***@b:2');
  });
});
