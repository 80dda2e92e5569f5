import { ErrorCodes, isMailroomError } from '@mailroom/core';
import { describe, expect, it } from 'vitest';
import { resolveNatsOptions } from './nats-options.js';
import { parseNatsUrl } from './transport-url.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}

describe('NATS URLs and options', () => {
  it('reads servers and credentials from a URL', () => {
    expect(parseNatsUrl('nats://localhost:4222')).toEqual({ servers: ['nats://localhost:4222'], tls: false });
    expect(parseNatsUrl('nats://me:s%40cret@a:4222,b:4223/')).toEqual({ servers: ['nats://a:4222', 'nats://b:4223'], user: 'me', pass: 's@cret', tls: false });
    expect(parseNatsUrl('tls://tok@host')).toEqual({ servers: ['tls://host'], token: 'tok', tls: true });
    expect(parseNatsUrl('nats://a:4222,b:4223,c:4224?replicas=3')).toEqual({
      servers: ['nats://a:4222', 'nats://b:4223', 'nats://c:4224'],
      tls: false,
      replicas: 3,
    });
    expect(parseNatsUrl('nats://a/?replicas=1')).toMatchObject({ replicas: 1 });
    for (const bad of ['nats://a?replicas=2', 'nats://a?replicas=', 'nats://a?x=1']) {
      expect(
        isMailroomError(
          thrown(() => parseNatsUrl(bad)),
          ErrorCodes.TRANSPORT_URL,
        ),
        bad,
      ).toBe(true);
    }
  });

  it('makes every stream (and the retry-state bucket) R3 with replicas: 3, unless a stream setting says otherwise', () => {
    const resolved = resolveNatsOptions({ replicas: 3 });
    expect([resolved.streams.replicas, resolved.deadLetterStream.replicas]).toEqual([3, 3]);
    const mixed = resolveNatsOptions({ replicas: 3, deadLetterStream: { replicas: 1 } });
    expect([mixed.streams.replicas, mixed.deadLetterStream.replicas]).toEqual([3, 1]);
  });

  it('refuses malformed URLs with a typed error that hides the password', () => {
    const error = thrown(() => parseNatsUrl('nats://me:secret@host:4222/path?x=1'));
    expect(isMailroomError(error, ErrorCodes.TRANSPORT_URL)).toBe(true);
    expect(String((error as Error).message)).not.toContain('secret');
    expect(
      isMailroomError(
        thrown(() => parseNatsUrl('nats://')),
        ErrorCodes.TRANSPORT_URL,
      ),
    ).toBe(true);
  });

  it('fills safe defaults and names the option it refuses', () => {
    const resolved = resolveNatsOptions({});
    expect(resolved.streams).toEqual({ storage: 'file', replicas: 1, maxAgeMs: 0, maxBytes: -1, maxMessages: -1, duplicateWindowMs: 120_000 });
    expect(resolved.ackWaitMs).toBe(30_000);
    for (const [options, words] of [
      [{ prefix: 'Bad Prefix' }, 'prefix'],
      [{ ackWaitMs: 10 }, 'ackWaitMs'],
      [{ streams: { replicas: 2 } }, 'streams.replicas'],
      [{ replicas: 2 }, 'replicas must be 1, 3 or 5'],
      [{ streams: { storage: 'disk' } }, 'streams.storage'],
      [{ deadLetterStream: { maxBytes: 0 } }, 'deadLetterStream.maxBytes'],
    ] as const) {
      const error = thrown(() => resolveNatsOptions(options as never));
      expect(isMailroomError(error, ErrorCodes.TRANSPORT_CONFIG)).toBe(true);
      expect((error as Error).message).toContain(words);
    }
  });
});
