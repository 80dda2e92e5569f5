import { randomBytes } from 'node:crypto';

const TTL_MS = 120_000;

/**
 * Confirm tokens for destructive actions. The first request of an action gets a token bound to
 * exactly what it would do (the action and its scope, as a string); only a second request with
 * that token, within two minutes, carries it out. A token works once.
 */
export class Confirmations {
  private readonly pending = new Map<string, { scope: string; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A new token for `scope`. */
  issue(scope: string): string {
    this.sweep();
    const token = randomBytes(16).toString('base64url');
    this.pending.set(token, { scope, expiresAt: this.now() + TTL_MS });
    return token;
  }

  /** True when `token` was issued for `scope` and has not expired; the token is spent either way. */
  redeem(token: string | undefined, scope: string): boolean {
    if (token === undefined) return false;
    const found = this.pending.get(token);
    this.pending.delete(token);
    return found !== undefined && found.scope === scope && found.expiresAt > this.now();
  }

  private sweep(): void {
    const now = this.now();
    for (const [token, { expiresAt }] of this.pending) if (expiresAt <= now) this.pending.delete(token);
  }
}
