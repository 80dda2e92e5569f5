import { type DeadLetterGroup, type DeadLetterQueue, groupDeadLetterQueue } from '@mailroom/core';

/** The groups of one filter and when they were computed. */
export interface GroupsSnapshot {
  readonly groups: DeadLetterGroup[];
  readonly computedAt: Date;
  /** True when this snapshot is older than `maxAgeMs` and a newer one is being computed: ask again shortly. */
  readonly refreshing: boolean;
}

interface Entry {
  readonly filter: GroupsFilter;
  /** The last snapshot computed, while no action has changed the dead letters since. */
  settled?: { groups: DeadLetterGroup[]; at: number };
  /** The computation under way, shared by every request that needs it. */
  pending?: Promise<{ groups: DeadLetterGroup[]; at: number }>;
  /** A background computation asked for and not started yet. */
  scheduled?: NodeJS.Timeout;
}

/** Which dead letters are grouped. */
export interface GroupsFilter {
  readonly endpoint?: string;
  readonly type?: string;
}

/**
 * Failure groups, computed at most once per `maxAgeMs` per filter and served stale-while-revalidate.
 * Grouping reads every dead letter (about a second per 100,000 on SQLite), so:
 * - a snapshot younger than `maxAgeMs` is served as it is;
 * - an older one is served at once, marked `refreshing`, and one new computation starts in the
 *   background `revalidateDelayMs` later (default 1 s), so a page never waits for grouping because
 *   time passed, and the page that asked is drawn (and its next click answered) before the grouping
 *   takes the CPU;
 * - after {@link invalidate} (an action changed the dead letters) or with `fresh`, the caller waits
 *   for a new computation: what an action changed is never hidden behind an old snapshot;
 * - concurrent requests share one computation; a failed computation is not kept.
 */
export class GroupsCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly queue: Pick<DeadLetterQueue, 'page'>,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
    private readonly revalidateDelayMs = 1000,
  ) {}

  /** The groups matching `endpoint`/`type` (see the class for when the snapshot is served and when a new one is awaited). */
  async get(filter: GroupsFilter, fresh = false): Promise<GroupsSnapshot> {
    const key = JSON.stringify([filter.endpoint ?? null, filter.type ?? null]);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { filter };
      this.entries.set(key, entry);
    }
    const settled = entry.settled;
    if (!fresh && settled) {
      const young = this.now() - settled.at < this.maxAgeMs;
      if (!young) this.scheduleRefresh(entry);
      return { groups: settled.groups, computedAt: new Date(settled.at), refreshing: !young };
    }
    const { groups, at } = await this.compute(entry, fresh);
    return { groups, computedAt: new Date(at), refreshing: false };
  }

  /** Forgets every snapshot (and the background computations not started): the next read of each filter waits for a new computation. */
  invalidate(): void {
    // What a computation in flight finds lands on its entry, which no read reaches any more.
    for (const entry of this.entries.values()) clearTimeout(entry.scheduled);
    this.entries.clear();
  }

  private scheduleRefresh(entry: Entry): void {
    if (entry.pending || entry.scheduled) return;
    entry.scheduled = setTimeout(() => {
      entry.scheduled = undefined;
      this.compute(entry).catch(() => undefined);
    }, this.revalidateDelayMs);
    entry.scheduled.unref();
  }

  /** One computation per entry at a time, unless `restart` (a fresh read must not get one started before it was asked). */
  private compute(entry: Entry, restart = false): Promise<{ groups: DeadLetterGroup[]; at: number }> {
    if (entry.pending && !restart) return entry.pending;
    clearTimeout(entry.scheduled);
    entry.scheduled = undefined;
    const at = this.now();
    const pending = groupDeadLetterQueue(this.queue, entry.filter).then((groups) => {
      // Kept unless something newer settled (after an invalidate the entry is out of the map).
      if ((entry.settled?.at ?? -Infinity) <= at) entry.settled = { groups, at };
      return { groups, at };
    });
    entry.pending = pending;
    pending
      .finally(() => {
        if (entry.pending === pending) entry.pending = undefined;
      })
      .catch(() => undefined);
    return pending;
  }
}
