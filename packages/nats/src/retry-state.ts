import type { Logger } from '@mailroom/core';
import type { KV } from '@nats-io/kv';

/**
 * Where the first failure time of a retried message lives. JetStream redelivers a nak'd message
 * unchanged, so the time cannot travel in the message: it is stored in a key-value bucket under
 * `<stream>.<consumer>.<stream sequence>`, written on the first retry, read when the message comes
 * back (whichever process gets it) and removed once it is acknowledged or dead-lettered.
 * Entries expire after the bucket's TTL, so nothing piles up when a removal is lost.
 */
export class RetryStateStore {
  constructor(
    private readonly bucket: () => Promise<KV>,
    private readonly log: Logger,
  ) {}

  /** The first failure time recorded for the key; undefined when none (or the bucket cannot be read). */
  async firstFailureAt(key: string): Promise<Date | undefined> {
    try {
      const entry = await (await this.bucket()).get(key);
      if (entry?.operation !== 'PUT') return undefined;
      const time = new Date(entry.string());
      return Number.isNaN(time.getTime()) ? undefined : time;
    } catch (error) {
      this.log.warn({ err: error, key }, 'could not read the first failure time of a retried message');
      return undefined;
    }
  }

  /** Records the first failure time; resolves once stored. A failure is logged, never thrown: the retry goes on. */
  async record(key: string, at: Date): Promise<void> {
    try {
      await (await this.bucket()).put(key, at.toISOString());
    } catch (error) {
      this.log.warn({ err: error, key }, 'could not store the first failure time of a retried message');
    }
  }

  /** Removes the entry in the background; a lost removal is cleaned by the bucket's TTL. */
  forget(key: string): void {
    void this.bucket()
      .then((kv) => kv.purge(key))
      .catch(() => undefined);
  }
}
