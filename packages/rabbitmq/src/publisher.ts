import { randomUUID } from 'node:crypto';
import { ErrorCodes, errorMessage, type Logger, MailroomError } from '@mailroom/core';
import { sleep } from '@mailroom/core/internal';
import type { AmqpConfirmChannel, AmqpMessage, AmqpPublishOptions } from './amqp-types.js';
import type { ConnectionSupervisor } from './connection-supervisor.js';
import { HeaderTable } from './header-table.js';
import { Bookkeeping } from './headers.js';

/** Where a message is published. */
export interface PublishTarget {
  readonly exchange: string;
  readonly routingKey: string;
  /** Ask the broker to return the message when no queue takes it (then {@link Publisher.publish} resolves `'returned'`). */
  readonly mandatory: boolean;
}

/** What became of a publish the broker confirmed. */
export type PublishOutcome = 'stored' | 'returned';

type Attempt = PublishOutcome | 'channel-lost';

interface Pending {
  returned: boolean;
}

/** Timeouts and bounds of a {@link Publisher}. */
export interface PublisherSettings {
  readonly confirmTimeoutMs: number;
  readonly unavailableTimeoutMs: number;
  readonly maxUnconfirmed: number;
}

/**
 * Publishes on one confirm channel and resolves only once RabbitMQ confirmed the message.
 * Guarantees: a confirm that never comes rejects with `MAILROOM_ERR_TRANSPORT_CONFIRM_TIMEOUT`
 * (amqplib #191/#419); a nack rejects with `MAILROOM_ERR_TRANSPORT_PUBLISH_REJECTED`; when the
 * channel or connection is lost before the confirm, the message is published again on the next
 * channel (at least once) until `unavailableTimeoutMs`, then rejects with
 * `MAILROOM_ERR_TRANSPORT_UNAVAILABLE`. Backpressure: once amqplib's `publish` returns false,
 * nothing more is written until `drain` (amqplib #398/#713), and at most `maxUnconfirmed`
 * publishes await their confirm; later callers wait their turn instead of buffering.
 */
export class Publisher {
  private channel: AmqpConfirmChannel | undefined;
  private opening: Promise<AmqpConfirmChannel> | undefined;
  private readonly dead = new WeakSet<AmqpConfirmChannel>();
  private readonly pending = new Map<string, Pending>();
  private writable = true;
  private writableWaiters = new Set<() => void>();
  private unconfirmed = 0;
  private slotWaiters: (() => void)[] = [];
  private closed = false;
  private readonly headerTable = new HeaderTable();

  constructor(
    private readonly supervisor: ConnectionSupervisor,
    private readonly settings: PublisherSettings,
    private readonly log: Logger,
    /** Called when RabbitMQ closed the channel because an exchange or queue does not exist (404). */
    private readonly onNotFound: () => void = () => undefined,
  ) {}

  /**
   * Publishes persistently and resolves once confirmed: `'stored'`, or `'returned'` for an unroutable
   * mandatory message. `prepare` runs before every attempt: it declares what the message goes to,
   * so that an exchange or queue deleted meanwhile (RabbitMQ then closes the channel with 404) is
   * declared again before the message is published again.
   */
  async publish(
    target: PublishTarget,
    content: Buffer,
    options: AmqpPublishOptions,
    deadline = Date.now() + this.settings.unavailableTimeoutMs,
    prepare?: (deadline: number) => Promise<void>,
  ): Promise<PublishOutcome> {
    for (;;) {
      this.assertOpen();
      await prepare?.(deadline);
      await this.acquireSlot(deadline);
      let outcome: Attempt;
      try {
        const channel = await this.openChannel(deadline);
        do await this.waitWritable(channel, deadline);
        while (!this.writable && this.channel === channel); // checked again right before writing: others may have filled the buffer meanwhile
        outcome = this.channel === channel ? await this.send(channel, target, content, options, deadline) : 'channel-lost';
      } finally {
        this.releaseSlot();
      }
      if (outcome !== 'channel-lost') return outcome;
      this.assertOpen();
      if (Date.now() >= deadline) throw this.supervisor.unavailableError();
      this.log.debug({ exchange: target.exchange }, 'channel lost before the confirm; publishing again');
      await sleep(20);
    }
  }

  /** Rejects every later publish with `MAILROOM_ERR_TRANSPORT_CLOSED` and closes the channel. */
  async close(): Promise<void> {
    this.closed = true;
    for (const wake of this.slotWaiters.splice(0)) wake();
    for (const wake of [...this.writableWaiters]) wake();
    const channel = this.channel;
    this.channel = undefined;
    await channel?.close().catch(() => undefined);
  }

  private send(channel: AmqpConfirmChannel, target: PublishTarget, content: Buffer, options: AmqpPublishOptions, deadline: number): Promise<Attempt> {
    return new Promise<Attempt>((resolve, reject) => {
      const publishId = target.mandatory ? randomUUID() : undefined;
      const entry: Pending = { returned: false };
      let finished = false;
      const finish = () => {
        finished = true;
        clearTimeout(timer);
        if (publishId) this.pending.delete(publishId);
      };
      const where = `${target.exchange || 'the default exchange'} (${target.routingKey})`;
      const confirmBy = Date.now() + this.settings.confirmTimeoutMs;
      // No confirm by `confirmBy` is a confirm timeout; but while RabbitMQ blocks the connection (it reads it again once
      // its alarm clears) the publish waits up to the outage deadline instead.
      const expire = () => {
        if (finished) return;
        const blocked = this.supervisor.isBlocked;
        const expiry = blocked ? deadline : confirmBy;
        if (Date.now() < expiry) {
          timer = setTimeout(expire, expiry - Date.now());
          return;
        }
        finish();
        reject(
          blocked
            ? new MailroomError(
                ErrorCodes.TRANSPORT_UNAVAILABLE,
                `RabbitMQ blocked the connection (a memory or disk alarm) while a publish to ${where} awaited its confirm; it may or may not be stored`,
              )
            : new MailroomError(
                ErrorCodes.TRANSPORT_CONFIRM_TIMEOUT,
                `RabbitMQ did not confirm a publish to ${where} within ${this.settings.confirmTimeoutMs} ms; it may or may not be stored`,
              ),
        );
      };
      let timer = setTimeout(expire, Math.max(0, Math.min(confirmBy, deadline) - Date.now()));
      if (publishId) this.pending.set(publishId, entry);
      const headers = publishId ? { ...options.headers, [Bookkeeping.publishId]: publishId } : options.headers;
      try {
        const flowing = channel.publish(
          target.exchange,
          target.routingKey,
          content,
          { ...options, headers: this.headerTable.fill(headers), persistent: true, mandatory: target.mandatory },
          (error) => {
            if (finished) return;
            finish();
            if (error === null || error === undefined) resolve(entry.returned ? 'returned' : 'stored');
            else if (this.dead.has(channel) || /closed/i.test(errorMessage(error))) resolve('channel-lost');
            else {
              reject(
                new MailroomError(
                  ErrorCodes.TRANSPORT_PUBLISH_REJECTED,
                  `RabbitMQ refused a publish to ${target.exchange || 'the default exchange'}: ${errorMessage(error)}`,
                  {
                    cause: error,
                  },
                ),
              );
            }
          },
        );
        if (!flowing) this.pause(channel);
      } catch (error) {
        finish();
        if (error instanceof RangeError) {
          reject(
            new MailroomError(ErrorCodes.CODEC_TOO_LARGE, `The message's headers do not fit in an AMQP frame: ${error.message}`, {
              cause: error,
              unrecoverable: true,
            }),
          );
        } else if (this.dead.has(channel) || /closed/i.test(errorMessage(error))) {
          resolve('channel-lost');
        } else {
          reject(new MailroomError(ErrorCodes.TRANSPORT_PUBLISH_REJECTED, `Cannot publish: ${errorMessage(error)}`, { cause: error }));
        }
      }
    });
  }

  private async openChannel(deadline: number): Promise<AmqpConfirmChannel> {
    const current = this.channel;
    if (current && !this.dead.has(current)) return current;
    this.opening ??= this.supervisor.createConfirmChannel(deadline).then((channel) => {
      channel.on('close', () => {
        this.dead.add(channel);
        if (this.channel === channel) {
          this.channel = undefined;
          this.resume();
        }
      });
      channel.on('return', (message: AmqpMessage) => {
        const id = message.properties.headers?.[Bookkeeping.publishId];
        const entry = typeof id === 'string' ? this.pending.get(id) : undefined;
        if (entry) entry.returned = true;
      });
      channel.on('drain', () => this.resume());
      channel.on('error', (error: unknown) => {
        if (/NOT[-_]FOUND/.test(errorMessage(error))) this.onNotFound();
      });
      this.channel = channel;
      this.writable = true;
      return channel;
    });
    try {
      return await this.opening;
    } finally {
      this.opening = undefined;
    }
  }

  private pause(channel: AmqpConfirmChannel): void {
    if (this.channel === channel) this.writable = false;
  }

  private resume(): void {
    this.writable = true;
    for (const wake of [...this.writableWaiters]) wake();
  }

  /** Waits for `drain` after amqplib asked to stop writing; rejects with UNAVAILABLE at the deadline. */
  private async waitWritable(channel: AmqpConfirmChannel, deadline: number): Promise<void> {
    while (!this.writable && this.channel === channel && !this.closed) {
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          clearTimeout(timer);
          this.writableWaiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(
          () => {
            this.writableWaiters.delete(wake);
            reject(new MailroomError(ErrorCodes.TRANSPORT_UNAVAILABLE, 'RabbitMQ is not reading what this process publishes (no drain before the deadline)'));
          },
          Math.max(0, deadline - Date.now()),
        );
        timer.unref();
        this.writableWaiters.add(wake);
      });
    }
    this.assertOpen();
  }

  private async acquireSlot(deadline: number): Promise<void> {
    while (this.unconfirmed >= this.settings.maxUnconfirmed) {
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(
          () => {
            this.slotWaiters = this.slotWaiters.filter((w) => w !== wake);
            reject(this.supervisor.unavailableError());
          },
          Math.max(0, deadline - Date.now()),
        );
        timer.unref();
        this.slotWaiters.push(wake);
      });
      this.assertOpen();
    }
    this.unconfirmed += 1;
  }

  private releaseSlot(): void {
    this.unconfirmed -= 1;
    this.slotWaiters.shift()?.();
  }

  private assertOpen(): void {
    if (this.closed) throw new MailroomError(ErrorCodes.TRANSPORT_CLOSED, 'The RabbitMQ transport is closed');
  }
}
