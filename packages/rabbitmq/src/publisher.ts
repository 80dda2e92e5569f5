import { randomUUID } from 'node:crypto';
import { ErrorCodes, errorMessage, type Logger, MailroomError } from '@mailroom/core';
import { sleep } from '@mailroom/core/internal';
import type { AmqpConfirmChannel, AmqpMessage, AmqpPublishOptions } from './amqp-types.js';
import { type Deadlined, DeadlineSweep } from './confirm-deadlines.js';
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
  private readonly pending = new Map<string, AwaitedConfirm>();
  private readonly deadlines = new DeadlineSweep<AwaitedConfirm>();
  private writable = true;
  private writableWaiters = new Set<() => void>();
  private unconfirmed = 0;
  private slotWaiters: (() => void)[] = [];
  private closed = false;
  private readonly headerTable = new HeaderTable();

  constructor(
    private readonly supervisor: ConnectionSupervisor,
    readonly settings: PublisherSettings,
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
    prepare?: (deadline: number) => Promise<void> | undefined,
  ): Promise<PublishOutcome> {
    for (;;) {
      this.assertOpen();
      // Each step waits only when it has to (a declaration to make, no free slot, no channel, no room
      // to write): the common case goes through without a promise per step.
      const preparing = prepare?.(deadline);
      if (preparing !== undefined) await preparing;
      if (this.unconfirmed < this.settings.maxUnconfirmed) this.unconfirmed += 1;
      else await this.acquireSlot(deadline);
      let outcome: Attempt;
      try {
        const current = this.channel;
        const channel = current !== undefined && !this.dead.has(current) ? current : await this.openChannel(deadline);
        while (!this.writable && this.channel === channel) await this.waitWritable(channel, deadline); // checked again right before writing: others may have filled the buffer meanwhile
        this.assertOpen();
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
      const confirm = new AwaitedConfirm(this, channel, target, deadline, publishId, resolve, reject);
      this.deadlines.add(confirm);
      if (publishId) this.pending.set(publishId, confirm);
      const headers = publishId ? { ...options.headers, [Bookkeeping.publishId]: publishId } : options.headers;
      try {
        const flowing = channel.publish(
          target.exchange,
          target.routingKey,
          content,
          { ...options, headers: this.headerTable.fill(headers), persistent: true, mandatory: target.mandatory },
          confirm.onConfirm,
        );
        if (!flowing) this.pause(channel);
      } catch (error) {
        confirm.finish();
        if (error instanceof RangeError) {
          reject(
            new MailroomError(ErrorCodes.CODEC_TOO_LARGE, `The message's headers do not fit in an AMQP frame: ${error.message}`, {
              cause: error,
              unrecoverable: true,
            }),
          );
        } else if (this.isChannelLoss(channel, error)) {
          resolve('channel-lost');
        } else {
          reject(new MailroomError(ErrorCodes.TRANSPORT_PUBLISH_REJECTED, `Cannot publish: ${errorMessage(error)}`, { cause: error }));
        }
      }
    });
  }

  /** True when `error` came from `channel` closing (the publish is then made again on the next channel). */
  isChannelLoss(channel: AmqpConfirmChannel, error: unknown): boolean {
    return this.dead.has(channel) || /closed/i.test(errorMessage(error));
  }

  /** Forgets a publish that was confirmed, refused or timed out. */
  settled(confirm: AwaitedConfirm): void {
    this.deadlines.remove(confirm);
    if (confirm.publishId) this.pending.delete(confirm.publishId);
  }

  /** True while RabbitMQ blocks the connection (a resource alarm). */
  get blocked(): boolean {
    return this.supervisor.isBlocked;
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

/**
 * One publish awaiting its confirm: settles the promise of {@link Publisher.send} on the broker's
 * answer, or at its deadline. No confirm by `confirmBy` is a confirm timeout; but while RabbitMQ
 * blocks the connection (it reads it again once its alarm clears) the publish waits up to the
 * outage deadline instead. One object per publish, its deadline watched by the publisher's
 * {@link DeadlineSweep} (no closures or timer per publish).
 */
class AwaitedConfirm implements Deadlined {
  /** Set when the broker returned the (mandatory) message before confirming it. */
  returned = false;
  checkAt: number;
  private finished = false;
  private readonly confirmBy: number;

  constructor(
    private readonly publisher: Publisher,
    private readonly channel: AmqpConfirmChannel,
    private readonly target: PublishTarget,
    private readonly deadline: number,
    readonly publishId: string | undefined,
    private readonly resolve: (attempt: Attempt) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.confirmBy = Date.now() + publisher.settings.confirmTimeoutMs;
    this.checkAt = Math.min(this.confirmBy, deadline);
  }

  finish(): void {
    this.finished = true;
    this.publisher.settled(this);
  }

  /** amqplib's confirm callback (an arrow: handed over as is). */
  readonly onConfirm = (error: unknown): void => {
    if (this.finished) return;
    this.finish();
    if (error === null || error === undefined) this.resolve(this.returned ? 'returned' : 'stored');
    else if (this.publisher.isChannelLoss(this.channel, error)) this.resolve('channel-lost');
    else {
      this.reject(
        new MailroomError(
          ErrorCodes.TRANSPORT_PUBLISH_REJECTED,
          `RabbitMQ refused a publish to ${this.target.exchange || 'the default exchange'}: ${errorMessage(error)}`,
          {
            cause: error,
          },
        ),
      );
    }
  };

  check(now: number): void {
    if (this.finished) return;
    const blocked = this.publisher.blocked;
    const expiry = blocked ? this.deadline : this.confirmBy;
    if (now < expiry) {
      this.checkAt = expiry;
      return;
    }
    this.finish();
    const where = `${this.target.exchange || 'the default exchange'} (${this.target.routingKey})`;
    this.reject(
      blocked
        ? new MailroomError(
            ErrorCodes.TRANSPORT_UNAVAILABLE,
            `RabbitMQ blocked the connection (a memory or disk alarm) while a publish to ${where} awaited its confirm; it may or may not be stored`,
          )
        : new MailroomError(
            ErrorCodes.TRANSPORT_CONFIRM_TIMEOUT,
            `RabbitMQ did not confirm a publish to ${where} within ${this.publisher.settings.confirmTimeoutMs} ms; it may or may not be stored`,
          ),
    );
  }
}
