/**
 * The pull budget of one consumer loop: how many messages to ask the server for, given the
 * messages the subscription holds (waiting for a slot or with a handler) and those the loop's open
 * pull requests asked for and did not bring yet. Pure bookkeeping, no I/O.
 *
 * Guarantees: what is held, asked for and about to be asked for together never pass `budget`
 * (while no pull brings more than it asked for); one request asks for at most `maxPull`; at most
 * `maxOpenPulls` requests are open; with none open it asks as soon as one message fits; a further
 * one only once a quarter of the budget is free, so the next messages travel while handlers run
 * without a stream of tiny requests.
 */
export class PullBudget {
  private open = 0;
  private asked = 0;
  private readonly refillAt: number;

  constructor(
    /** Most messages held and asked for together (the subscription's concurrency times its prefetch factor). */
    readonly budget: number,
    private readonly maxOpenPulls: number,
    private readonly maxPull: number,
  ) {
    this.refillAt = Math.max(1, Math.floor(budget / 4));
  }

  /** Messages asked for by the open pull requests and not received yet. */
  get outstanding(): number {
    return this.asked;
  }

  /** Pull requests open. */
  get openPulls(): number {
    return this.open;
  }

  /** How many messages to ask for now, with `held` messages held by the subscription; 0: send no pull request. */
  wanted(held: number): number {
    const credit = this.budget - held - this.asked;
    const pull = this.open === 0 ? credit >= 1 : this.open < this.maxOpenPulls && credit >= this.refillAt;
    return pull ? Math.min(credit, this.maxPull) : 0;
  }

  /** A pull request asking for `wanted` messages was sent. */
  opened(wanted: number): void {
    this.asked += wanted;
    this.open += 1;
  }

  /**
   * The `received`-th message of a pull request that asked for `wanted` arrived (it is held now).
   * After a reconnect the client asks again for the whole batch: what comes beyond `wanted` is not
   * counted against the request.
   */
  arrived(received: number, wanted: number): void {
    if (received <= wanted) this.asked -= 1;
  }

  /** A pull request that asked for `wanted` ended after bringing `received` messages. */
  closed(wanted: number, received: number): void {
    this.asked -= Math.max(0, wanted - received);
    this.open -= 1;
  }
}
