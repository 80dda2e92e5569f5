import { randomUUID } from 'node:crypto';
import { errorMessage } from '@mailroom/core';

/** The progress of a retry job, as the UI polls it. */
export interface JobStatus {
  readonly id: string;
  readonly kind: string;
  readonly who: string;
  readonly state: 'running' | 'done' | 'failed';
  /** Known once the ids are collected; undefined while they are. */
  readonly total: number | undefined;
  readonly done: number;
  readonly failed: number;
  /** The first failures (id and message), at most 20. */
  readonly errors: readonly { id: string; message: string }[];
  readonly startedAt: string;
  readonly finishedAt: string | undefined;
}

const KEPT_JOBS = 100;

/**
 * Runs retry jobs in the background, one letter at a time, and keeps their progress for the UI
 * (the last 100 jobs). A job first collects the ids it acts on, then calls `act` for each; a
 * failure of one id is counted and the job goes on.
 */
export class RetryJobs {
  private readonly jobs = new Map<string, JobStatus>();

  /** Starts a job and returns its id at once; `onFinish` is called with the final status. */
  start(
    kind: string,
    who: string,
    collect: () => Promise<readonly string[]>,
    act: (id: string) => Promise<void>,
    onFinish?: (job: JobStatus) => void,
  ): JobStatus {
    const id = randomUUID();
    let job: JobStatus = {
      id,
      kind,
      who,
      state: 'running',
      total: undefined,
      done: 0,
      failed: 0,
      errors: [],
      startedAt: new Date().toISOString(),
      finishedAt: undefined,
    };
    const set = (next: Partial<JobStatus>) => {
      job = { ...job, ...next };
      this.jobs.set(id, job);
    };
    set({});
    if (this.jobs.size > KEPT_JOBS) {
      const oldest = this.jobs.keys().next().value;
      if (oldest !== undefined) this.jobs.delete(oldest);
    }
    void (async () => {
      try {
        const ids = await collect();
        set({ total: ids.length });
        for (const letterId of ids) {
          try {
            await act(letterId);
            set({ done: job.done + 1 });
          } catch (error) {
            set({ failed: job.failed + 1, errors: job.errors.length < 20 ? [...job.errors, { id: letterId, message: errorMessage(error) }] : job.errors });
          }
        }
        set({ state: 'done', finishedAt: new Date().toISOString() });
      } catch (error) {
        set({ state: 'failed', errors: [...job.errors, { id: '', message: errorMessage(error) }], finishedAt: new Date().toISOString() });
      }
      onFinish?.(job);
    })();
    return job;
  }

  get(id: string): JobStatus | undefined {
    return this.jobs.get(id);
  }

  /** Every kept job, newest first. */
  list(): JobStatus[] {
    return [...this.jobs.values()].reverse();
  }
}
