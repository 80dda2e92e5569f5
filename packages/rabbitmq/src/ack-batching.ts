import type { AmqpChannel, AmqpMessage } from './amqp-types.js';

/** What a delivery settles through: a consuming channel's `ack` and `nack`. */
export type Settler = Pick<AmqpChannel, 'ack' | 'nack'>;

/**
 * Sends the acknowledgements of one consuming channel at the end of the current tick, the longest
 * run of them that starts at the oldest message still held as one `basic.ack` with `multiple`.
 *
 * Why it is safe: `multiple` acknowledges every message of the channel up to the given delivery tag
 * that RabbitMQ still counts as unacknowledged. Every message the channel receives is registered
 * here ({@link received}) in delivery-tag order, before anything else sees it, and leaves only when
 * its acknowledgement or its `nack` is written. At a flush, `multiple` is used for tag T only when
 * every message still held with a tag up to T was acknowledged by its handler; any other message
 * with a smaller tag was already settled by a frame written before (frames of a channel reach the
 * broker in order). A message held by nobody (handed to no handler, e.g. received while paused)
 * stays held, so no `multiple` ever covers it; acknowledgements after it go out one by one.
 *
 * Acknowledgements are asked for in one turn of the event loop as before and leave in that same
 * turn (the connection's multiplexer writes its frames in a `process.nextTick`, before any I/O
 * callback or `setImmediate`, see `batchFrameWrites`); `flush` writes them at once (before
 * the channel is closed). A channel that closed drops them: RabbitMQ returns those messages to the
 * queue, as it would have with acknowledgements written into a closing channel.
 */
export class AckBatcher implements Settler {
  /** Delivery tags received and not yet settled by a written frame, ascending (a Set iterates in insertion order). */
  private readonly held = new Set<number>();
  /** Messages whose acknowledgement waits for the flush, by delivery tag. */
  private readonly acked = new Map<number, AmqpMessage>();
  private scheduled = false;
  private dead = false;

  constructor(
    private readonly channel: AmqpChannel,
    /** Called when the channel refused the acknowledgements (it closed meanwhile); they are dropped. */
    private readonly onDropped: (count: number, error: unknown) => void,
  ) {}

  /** Registers a message the channel received; call it for every message, before it is handed out or left unsettled. */
  received(message: AmqpMessage): void {
    this.held.add(message.fields.deliveryTag);
  }

  /** Acknowledges at the end of this tick. Throws, as amqplib does, once the channel is known to be closed. */
  ack(message: AmqpMessage): void {
    if (this.dead) throw new Error('Channel closed');
    this.acked.set(message.fields.deliveryTag, message);
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(() => this.flush());
    }
  }

  /** Writes the acknowledgements waiting, then the `nack` (of this one message only). */
  nack(message: AmqpMessage, _allUpTo?: boolean, requeue?: boolean): void {
    this.flush();
    this.held.delete(message.fields.deliveryTag);
    this.channel.nack(message, false, requeue);
  }

  /** Writes the acknowledgements waiting now. */
  flush(): void {
    this.scheduled = false;
    if (this.acked.size === 0) return;
    const acked = this.acked;
    let remaining = acked.size;
    try {
      // The run of acknowledged messages from the oldest one held; deleting while iterating a Set is safe.
      let last: AmqpMessage | undefined;
      let run = 0;
      for (const tag of this.held) {
        const message = acked.get(tag);
        if (message === undefined) break;
        last = message;
        run += 1;
        this.held.delete(tag);
        acked.delete(tag);
      }
      if (last !== undefined) {
        this.channel.ack(last, run > 1);
        remaining -= run;
      }
      for (const [tag, message] of acked) {
        this.channel.ack(message, false);
        remaining -= 1;
        this.held.delete(tag);
        acked.delete(tag);
      }
    } catch (error) {
      this.close();
      this.onDropped(remaining, error);
    }
  }

  /** The channel closed: acknowledgements waiting are dropped and later ones refused. */
  close(): void {
    this.dead = true;
    this.acked.clear();
    this.held.clear();
  }
}
