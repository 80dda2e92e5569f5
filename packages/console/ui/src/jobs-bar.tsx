import { useEffect, useState } from 'preact/hooks';
import { api, type Job } from './api.js';

/** Retry jobs with their progress: polled every half second while one runs; finished ones stay listed until dismissed. */
export function JobsBar({ version }: { version: number }) {
  const [jobs, setJobs] = useState<Job[]>([]);
  const [hidden, setHidden] = useState<Set<string>>(new Set());
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const { jobs: all } = await api<{ jobs: Job[] }>('/api/jobs');
        if (stopped) return;
        setJobs(all.slice(0, 5));
        if (all.some((job) => job.state === 'running')) timer = setTimeout(poll, 500);
      } catch {
        // the next version bump polls again
      }
    };
    void poll();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [version]);
  const shown = jobs.filter((job) => !hidden.has(job.id));
  if (shown.length === 0) return null;
  return (
    <aside class="jobs">
      {shown.map((job) => {
        const total = job.total ?? 0;
        const pct = total === 0 ? (job.state === 'running' ? 0 : 100) : Math.round(((job.done + job.failed) / total) * 100);
        return (
          <div class={`job ${job.state}`} key={job.id} data-testid="job" data-state={job.state}>
            <span>
              {job.kind} · {job.state === 'running' ? 'running' : job.state} · <span data-testid="job-done">{job.done}</span>/{job.total ?? '…'} done
              {job.failed > 0 && `, ${job.failed} failed`}
            </span>
            <progress max={100} value={pct} />
            {job.errors[0] && <span class="error">{job.errors[0].message}</span>}
            {job.state !== 'running' && (
              <button type="button" class="link" onClick={() => setHidden(new Set([...hidden, job.id]))}>
                dismiss
              </button>
            )}
          </div>
        );
      })}
    </aside>
  );
}
