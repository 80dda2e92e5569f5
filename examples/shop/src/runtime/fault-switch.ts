/**
 * The poison fault as one process sees it. The supervisor owns the switch: it starts each process
 * with the current state (`SHOP_POISON_FAULT`) and sends every change over the IPC channel.
 */
export class FaultSwitch {
  #poison: boolean;

  constructor(initial: boolean) {
    this.#poison = initial;
  }

  /** True while orders of the poison product make inventory's handler fail. */
  get poison(): boolean {
    return this.#poison;
  }

  /** Applies a `{ type: 'faults', poison }` message from the supervisor; ignores anything else. Returns true when it changed the state. */
  apply(message: unknown): boolean {
    const m = message as { type?: unknown; poison?: unknown } | null;
    if (m?.type !== 'faults' || typeof m.poison !== 'boolean' || m.poison === this.#poison) return false;
    this.#poison = m.poison;
    return true;
  }
}
