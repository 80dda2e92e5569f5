import type { BenchMessage } from './bench-message.js';

/**
 * One way of moving {@link BenchMessage}s through a broker and back into this process: Mailroom,
 * a raw client or a peer library. `start` declares what it needs and begins consuming, calling
 * `deliver` once per handled message before acknowledging it; `publish` resolves when the
 * contender considers the message sent (for Mailroom and the raw clients: broker-confirmed).
 */
export interface MessagingContender {
  readonly name: string;
  start(deliver: (message: BenchMessage) => void): Promise<void>;
  publish(message: BenchMessage): Promise<void>;
  /** Stops consuming, closes connections and deletes what `start` declared. */
  stop(): Promise<void>;
}
