import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';

/** GETs `path` now and every `everyMs` (when given) while mounted; `reload` fetches again at once. */
export function usePoll<T>(path: string, everyMs?: number): { data: T | undefined; error: string | undefined; reload: () => void } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let stopped = false;
    const load = () =>
      api<T>(path).then(
        (value) => {
          if (!stopped) {
            setData(value);
            setError(undefined);
          }
        },
        (e: Error) => !stopped && setError(e.message),
      );
    void load();
    const timer = everyMs === undefined ? undefined : setInterval(load, everyMs);
    return () => {
      stopped = true;
      if (timer) clearInterval(timer);
    };
  }, [path, everyMs, tick]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}

export function ago(iso: string | undefined): string {
  if (!iso) return '';
  const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

export function when(iso: string | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '';
}
