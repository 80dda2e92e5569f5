import { type DeadLetterGroup, type DeadLetterQueue, groupDeadLetterQueue } from '@mailroom/core';

/** The groups of one filter and when they were computed. */
export interface GroupsSnapshot {
  readonly groups: DeadLetterGroup[];
  readonly computedAt: Date;
}

/**
 * Failure groups, computed at most once per `maxAgeMs` per filter: grouping reads every dead
 * letter (about a second per 100,000 on SQLite), so the console serves a snapshot no older than
 * `maxAgeMs`, shares one computation between concurrent requests, and forgets every snapshot
 * when an action changes the dead letters ({@link invalidate}).
 */
export class GroupsCache {
  private readonly entries = new Map<string, { at: number; snapshot: Promise<GroupsSnapshot> }>();

  constructor(
    private readonly queue: DeadLetterQueue,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The groups matching `endpoint`/`type`: the snapshot when it is young enough (and `fresh` is not set), else a new one. */
  get(filter: { endpoint?: string; type?: string }, fresh = false): Promise<GroupsSnapshot> {
    const key = JSON.stringify([filter.endpoint ?? null, filter.type ?? null]);
    const entry = this.entries.get(key);
    if (!fresh && entry && this.now() - entry.at < this.maxAgeMs) return entry.snapshot;
    const at = this.now();
    const snapshot = groupDeadLetterQueue(this.queue, filter).then((groups) => ({ groups, computedAt: new Date(at) }));
    this.entries.set(key, { at, snapshot });
    snapshot.catch(() => {
      if (this.entries.get(key)?.snapshot === snapshot) this.entries.delete(key);
    });
    return snapshot;
  }

  /** Forgets every snapshot: the next read groups again. */
  invalidate(): void {
    this.entries.clear();
  }
}
