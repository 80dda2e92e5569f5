/**
 * Wakes the publishes waiting for a JetStream answer when an unanswered attempt should be sent
 * again at once (the connection came back, a stream elected a new leader). Each waiting publish
 * registers a callback for as long as it waits and removes it once answered, so nothing is kept
 * per publish between two resends: a promise shared by every publish until the next reconnect
 * would keep a reaction of each one, a leak of several hundred bytes per message on a connection
 * that never drops.
 */
export class ResendSignal {
  private readonly waiting = new Set<() => void>();

  /** Publishes waiting now (for tests and tooling). */
  get size(): number {
    return this.waiting.size;
  }

  /** Runs `wake` once at the next {@link resend}, unless {@link remove}d before. */
  add(wake: () => void): void {
    this.waiting.add(wake);
  }

  /** Forgets a callback added with {@link add} (its publish was answered). */
  remove(wake: () => void): void {
    this.waiting.delete(wake);
  }

  /** Wakes every publish waiting now; those that start waiting afterwards wait for the next one. */
  resend(): void {
    const woken = [...this.waiting];
    this.waiting.clear();
    for (const wake of woken) wake();
  }
}
