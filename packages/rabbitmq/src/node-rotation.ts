import { redactUrl } from '@mailroom/core';
import { type AmqpAddress, amqpAddress } from './node-urls.js';

/**
 * The nodes a connection may use and the one it tries next. amqplib's recovering connection
 * reconnects to one address; it reads that address object again at every attempt, so moving to the
 * next node is overwriting the object's fields ({@link next}), which the supervisor does after each
 * lost connection and each failed attempt: a dead node is left at once and every node is tried in
 * turn, with amqplib's backoff between attempts.
 */
export class NodeRotation {
  /** The object given to amqplib's `connect`; always holds the current node's fields. */
  readonly target: AmqpAddress;
  private index = 0;
  private readonly addresses: readonly AmqpAddress[];

  /** `urls`: one checked URL per node (at least one). */
  constructor(private readonly urls: readonly string[]) {
    this.addresses = urls.map(amqpAddress);
    this.target = { ...(this.addresses[0] as AmqpAddress) };
  }

  /** The current node's URL, password redacted. */
  get current(): string {
    return redactUrl(this.urls[this.index] as string);
  }

  /** Every node, passwords redacted, for messages. */
  get where(): string {
    return this.urls.map(redactUrl).join(', ');
  }

  /** Moves to the next node (the first after the last). A single node stays. */
  next(): void {
    if (this.addresses.length < 2) return;
    this.index = (this.index + 1) % this.addresses.length;
    Object.assign(this.target, this.addresses[this.index]);
  }
}
