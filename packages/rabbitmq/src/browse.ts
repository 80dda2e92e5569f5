import { ErrorCodes, errorMessage, MailroomError } from '@mailroom/core';
import { settleWithin, sleep } from '@mailroom/core/internal';
import type { AmqpChannel, AmqpMessage } from './amqp-types.js';
import type { ConnectionSupervisor } from './connection-supervisor.js';
import { RabbitMqErrorCodes } from './errors.js';
import type { Topology } from './topology.js';

/** A queue's messages held by a browse: acknowledge the ones to remove; the rest return to the queue, in order. */
export interface Browse {
  readonly messages: readonly AmqpMessage[];
  /** Removes a message from the queue for good (sent before the browse ends; applied by the broker in order). */
  remove(message: AmqpMessage): void;
}

/**
 * Reads every message of `queue` without consuming it, under a lock shared by every process:
 * the lock is an exclusive consumer on the empty queue `lockQueue` (RabbitMQ refuses a second one,
 * and frees it when its holder's connection dies). Holding the lock, the browse fetches messages
 * one by one until the queue is empty, lets `visit` remove some, and ends by closing its channel,
 * which returns the others to their places. Throws `MAILROOM_ERR_RABBITMQ_LOCK_TIMEOUT` when
 * another process holds the lock past `lockTimeoutMs`.
 */
export async function browseQueue<T>(
  supervisor: ConnectionSupervisor,
  topology: Topology,
  queue: string,
  lockQueue: string,
  lockTimeoutMs: number,
  visit: (browse: Browse) => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + lockTimeoutMs;
  await topology.ownQueue(queue, deadline);
  await topology.ownQueue(lockQueue, deadline);
  const channel = await lock(supervisor, lockQueue, deadline);
  try {
    const messages: AmqpMessage[] = [];
    for (;;) {
      const message = await channel.get(queue, { noAck: false }).catch((error: unknown) => {
        throw new MailroomError(
          ErrorCodes.TRANSPORT_UNAVAILABLE,
          `Lost the channel while reading ${queue}; nothing was changed, try again (${errorMessage(error)})`,
          {
            cause: error,
          },
        );
      });
      if (message === false) break;
      messages.push(message);
    }
    const remove = (message: AmqpMessage) => {
      try {
        channel.ack(message);
      } catch (error) {
        throw new MailroomError(ErrorCodes.TRANSPORT_UNAVAILABLE, `Lost the channel while changing ${queue}; try again (${errorMessage(error)})`, {
          cause: error,
        });
      }
    };
    return await visit({ messages, remove });
  } finally {
    await settleWithin(channel.close(), 5000);
  }
}

async function lock(supervisor: ConnectionSupervisor, lockQueue: string, deadline: number): Promise<AmqpChannel> {
  let lastError = '';
  for (let attempt = 1; ; attempt++) {
    const channel = await supervisor.createChannel(deadline);
    try {
      await channel.consume(lockQueue, () => undefined, { exclusive: true, noAck: true });
      return channel;
    } catch (error) {
      lastError = errorMessage(error);
      await settleWithin(channel.close(), 1000);
      if (Date.now() >= deadline) {
        throw new MailroomError(
          RabbitMqErrorCodes.LOCK_TIMEOUT,
          `Another process held the lock ${lockQueue} for longer than the lock timeout (${lastError}); try again, or raise lockTimeoutMs`,
        );
      }
      await sleep(Math.min(20 + Math.random() * 30 * Math.min(attempt, 10), Math.max(0, deadline - Date.now())));
    }
  }
}
