import { createDefaultLogger, ErrorCodes, isMailroomError } from '@mailroom/core';
import { describe, expect, it } from 'vitest';
import type { AmqpChannel, AmqpMessage } from './amqp-types.js';
import { createDelivery } from './delivery.js';
import { amqpProperties } from './headers.js';
import { MAX_DELAY_MS } from './names.js';
import type { Outbound } from './outbound.js';

const failure = { reason: ErrorCodes.HANDLER_FAILED, errorMessage: 'boom' };

/** A delivery on a fake channel whose settlements and copies are recorded. */
function fakeDelivery() {
  const settled: string[] = [];
  const copies: { to: string; delayMs?: number }[] = [];
  const channel = {
    ack: () => settled.push('ack'),
    nack: (_message: AmqpMessage, _allUpTo?: boolean, requeue?: boolean) => settled.push(requeue ? 'nack-requeue' : 'nack'),
  } as unknown as AmqpChannel;
  const outbound = {
    properties: (headers: Record<string, string>) => amqpProperties(headers, 'compact'),
    toQueue: async (queue: string) => {
      copies.push({ to: queue });
    },
    toDelay: async (queue: string, delayMs: number) => {
      copies.push({ to: queue, delayMs });
    },
  } as unknown as Outbound;
  const message: AmqpMessage = {
    content: Buffer.from('{}'),
    fields: { deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'billing' },
    properties: { headers: { 'ce-id': 'm-1' } },
  };
  const delivery = createDelivery(
    {
      endpoint: 'billing',
      queue: 'billing',
      errorQueue: 'mailroom.error',
      outbound,
      unavailableTimeoutMs: 1000,
      log: createDefaultLogger(),
      isLive: () => true,
    },
    channel,
    message,
  );
  return { delivery, settled, copies };
}

describe('RabbitMQ delivery retry', () => {
  it('caps a delay longer than the delay levels hold at the longest one, and settles the delivery', async () => {
    for (const delayMs of [MAX_DELAY_MS + 1, MAX_DELAY_MS * 3, Number.POSITIVE_INFINITY]) {
      const { delivery, settled, copies } = fakeDelivery();
      await delivery.retry(delayMs, failure);
      expect(copies, String(delayMs)).toEqual([{ to: 'billing', delayMs: MAX_DELAY_MS }]);
      expect(settled, String(delayMs)).toEqual(['ack']);
    }
  });

  it('returns the message to its queue before refusing an invalid delay, so it never holds a prefetch slot', async () => {
    for (const delayMs of [-1, Number.NaN, '10' as unknown as number]) {
      const { delivery, settled, copies } = fakeDelivery();
      await expect(delivery.retry(delayMs, failure), String(delayMs)).rejects.toSatisfy((e) => isMailroomError(e, ErrorCodes.TRANSPORT_CONFIG));
      expect(settled, String(delayMs)).toEqual(['nack-requeue']);
      expect(copies).toEqual([]);
      // settled once: a later settle is refused instead of acknowledging the tag again
      await expect(delivery.ack()).rejects.toSatisfy((e) => isMailroomError(e, ErrorCodes.TRANSPORT_SETTLED));
      expect(settled).toEqual(['nack-requeue']);
    }
  });
});
