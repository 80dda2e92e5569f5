import { describe, expect, it } from 'vitest';
import { AckBatcher } from './ack-batching.js';
import type { AmqpChannel, AmqpMessage } from './amqp-types.js';

const message = (deliveryTag: number): AmqpMessage => ({
  content: Buffer.alloc(0),
  fields: { deliveryTag, redelivered: false, exchange: '', routingKey: 'q' },
  properties: {},
});

/** A batcher over a fake channel recording the frames it would write. */
function fakeBatcher(failWith?: Error) {
  const frames: string[] = [];
  const dropped: number[] = [];
  const channel = {
    ack: (m: AmqpMessage, allUpTo?: boolean) => {
      if (failWith) throw failWith;
      frames.push(`ack ${m.fields.deliveryTag}${allUpTo ? ' multiple' : ''}`);
    },
    nack: (m: AmqpMessage, allUpTo?: boolean, requeue?: boolean) =>
      frames.push(`nack ${m.fields.deliveryTag}${allUpTo ? ' multiple' : ''}${requeue ? ' requeue' : ''}`),
  } as unknown as AmqpChannel;
  const batcher = new AckBatcher(channel, (count) => dropped.push(count));
  const messages = Array.from({ length: 8 }, (_, i) => message(i + 1));
  for (const m of messages) batcher.received(m);
  return { batcher, frames, dropped, messages };
}

const tick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('AckBatcher', () => {
  it('acknowledges the acks of one tick that start at the oldest held message with one multiple ack', async () => {
    const { batcher, frames, messages } = fakeBatcher();
    for (const m of messages.slice(0, 5).reverse()) batcher.ack(m);
    expect(frames).toEqual([]);
    await tick();
    expect(frames).toEqual(['ack 5 multiple']);
    batcher.ack(messages[5] as AmqpMessage);
    await tick();
    expect(frames).toEqual(['ack 5 multiple', 'ack 6']);
  });

  it('never covers a message still held: acks after it go out one by one until it is settled', async () => {
    const { batcher, frames, messages } = fakeBatcher();
    const [m1, m2, m3, m4] = messages as [AmqpMessage, AmqpMessage, AmqpMessage, AmqpMessage];
    batcher.ack(m2);
    batcher.ack(m3);
    await tick();
    expect(frames).toEqual(['ack 2', 'ack 3']);
    batcher.ack(m1);
    batcher.ack(m4);
    await tick();
    // 2 and 3 are settled, so 1 and 4 are the two oldest held: one multiple ack of 4 covers exactly them
    expect(frames).toEqual(['ack 2', 'ack 3', 'ack 4 multiple']);
  });

  it('writes waiting acks before a nack, and a nack settles only its own message', async () => {
    const { batcher, frames, messages } = fakeBatcher();
    const [m1, m2, m3] = messages as [AmqpMessage, AmqpMessage, AmqpMessage];
    batcher.ack(m1);
    batcher.nack(m2, true, true);
    expect(frames).toEqual(['ack 1', 'nack 2 requeue']);
    batcher.ack(m3);
    await tick();
    expect(frames).toEqual(['ack 1', 'nack 2 requeue', 'ack 3']);
  });

  it('flush() writes at once; after close() acks are refused and nothing waiting is written', async () => {
    const { batcher, frames, messages } = fakeBatcher();
    batcher.ack(messages[0] as AmqpMessage);
    batcher.ack(messages[1] as AmqpMessage);
    batcher.flush();
    expect(frames).toEqual(['ack 2 multiple']);
    batcher.ack(messages[2] as AmqpMessage);
    batcher.close();
    await tick();
    expect(frames).toEqual(['ack 2 multiple']);
    expect(() => batcher.ack(messages[3] as AmqpMessage)).toThrow(/closed/);
  });

  it('reports the acks a closed channel refused', async () => {
    const { batcher, dropped, messages } = fakeBatcher(new Error('Channel closed'));
    batcher.ack(messages[0] as AmqpMessage);
    batcher.ack(messages[1] as AmqpMessage);
    batcher.ack(messages[3] as AmqpMessage);
    await tick();
    expect(dropped).toEqual([3]);
    expect(() => batcher.ack(messages[4] as AmqpMessage)).toThrow(/closed/);
  });
});
