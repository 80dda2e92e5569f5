import { appendFileSync } from 'node:fs';
import type { Logger } from '@mailroom/core';

/** One audit entry: who did what, when, to which ids, with what outcome. */
export interface AuditEntry {
  /** `session:<ref>` or `token:<ref>` (never a token or a cookie), or `anonymous` for a refused request. */
  readonly who: string;
  readonly at: string;
  /** What was done, e.g. `retry`, `edit-and-retry`, `purge`, or `POST /api/...` for the request itself. */
  readonly action: string;
  /** The dead letters, archive entries or jobs acted on. */
  readonly ids?: readonly string[];
  readonly status?: number;
  readonly outcome?: string;
  readonly detail?: string;
}

const KEPT_IN_MEMORY = 1000;

/**
 * The console's audit trail: every entry is appended, one JSON object a line, to a file (written
 * synchronously, so an entry is on disk before the response leaves) and kept in memory (the last
 * 1000) for the UI. {@link logger} is what the operator-auth plugin writes its per-request entries to.
 */
export class AuditTrail {
  private readonly recent: AuditEntry[] = [];

  constructor(readonly file: string) {}

  /** Records an entry: appends it to the file, then keeps it for {@link list}. */
  record(entry: Omit<AuditEntry, 'at'> & { at?: string }): AuditEntry {
    const full: AuditEntry = { ...entry, at: entry.at ?? new Date().toISOString() };
    appendFileSync(this.file, `${JSON.stringify(full)}\n`);
    this.recent.push(full);
    if (this.recent.length > KEPT_IN_MEMORY) this.recent.shift();
    return full;
  }

  /** The most recent entries, newest first. */
  list(limit = 200): AuditEntry[] {
    return this.recent.slice(-limit).reverse();
  }

  /** A Logger whose `info` records the operator-auth plugin's request entries in this trail. */
  logger(): Logger {
    const write = (obj: object) => {
      const o = obj as Record<string, unknown>;
      if (typeof o.who !== 'string' || typeof o.action !== 'string') return;
      this.record({
        who: o.who,
        action: o.action,
        ...(typeof o.at === 'string' && { at: o.at }),
        ...(typeof o.status === 'number' && { status: o.status }),
        ...(typeof o.outcome === 'string' && { outcome: o.outcome }),
        ...(typeof o.code === 'string' && { detail: o.code }),
      });
    };
    const logger: Logger = { trace: () => {}, debug: () => {}, info: write, warn: write, error: write, child: () => logger };
    return logger;
  }
}
