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

  /**
   * How many deliveries of the message were holds (it came before its scheduled time and went back
   * unseen): 0 when none were recorded. The delivery's attempt is its delivery count minus these.
   */
  async held(key: string): Promise<number> {
    try {
      const entry = await (await this.bucket()).get(`${key}.held`);
      const count = entry?.operation === 'PUT' ? Number(entry.string()) : 0;
      return Number.isSafeInteger(count) && count > 0 ? count : 0;
    } catch (error) {
      this.log.warn({ err: error, key }, 'could not read how often a scheduled message was held');
      return 0;
    }
  }

  /** Records that the first `deliveries` deliveries of the message were holds. Logged, never thrown. */
  async recordHeld(key: string, deliveries: number): Promise<void> {
    try {
      await (await this.bucket()).put(`${key}.held`, String(deliveries));
    } catch (error) {
      this.log.warn({ err: error, key }, 'could not record that a scheduled message was held');
    }
  }

  /** Where a scheduled message was stored (`<stream>:<sequence>:<due epoch ms>`), for cancelling it; undefined when unknown. */
  async scheduled(messageId: string): Promise<{ stream: string; seq: number; deliverAt: number } | undefined> {
    const entry = await (await this.bucket()).get(scheduleKey(messageId));
    if (entry?.operation !== 'PUT') return undefined;
    const [stream, seq, deliverAt] = entry.string().split(':');
    if (!stream || !Number.isSafeInteger(Number(seq)) || !Number.isFinite(Number(deliverAt))) return undefined;
    return { stream, seq: Number(seq), deliverAt: Number(deliverAt) };
  }

  /** Records where a scheduled message was stored. Logged, never thrown: the message is scheduled anyway, only not cancellable. */
  async recordScheduled(messageId: string, stream: string, seq: number, deliverAt: number): Promise<void> {
    try {
      await (await this.bucket()).put(scheduleKey(messageId), `${stream}:${seq}:${deliverAt}`);
    } catch (error) {
      this.log.warn({ err: error, messageId }, 'could not record where a scheduled message was stored; it cannot be cancelled');
    }
  }

  /** Removes the record of a scheduled message in the background. */
  forgetScheduled(messageId: string): void {
    this.forget(scheduleKey(messageId));
  }

  /** Removes the entry (and its hold count) in the background; a lost removal is cleaned by the bucket's TTL. */
  forget(key: string): void {
    void this.bucket()
      .then((kv) => Promise.all([kv.purge(key), kv.purge(`${key}.held`)]))
      .catch(() => undefined);
  }
}

/** The bucket key of a scheduled message's record: its id in hex (ids may hold characters keys cannot). */
function scheduleKey(messageId: string): string {
  return `scheduled.${Buffer.from(messageId).toString('hex')}`;
}
