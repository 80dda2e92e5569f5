import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/** What {@link usePoll} returns: the latest data, the latest error (cleared by a success), and a way to refresh now. */
export interface Poll<T> {
  readonly data: T | undefined;
  readonly error: Error | undefined;
  refresh(): void;
}

/** Calls `load` now and every `intervalMs` (never two at once) while the component is mounted and `enabled`; disabled, it forgets its data. */
export function usePoll<T>(load: () => Promise<T>, intervalMs: number, enabled = true): Poll<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const busy = useRef(false);
  const loadRef = useRef(load);
  loadRef.current = load;
  const refresh = useCallback(() => {
    if (busy.current) return;
    busy.current = true;
    loadRef
      .current()
      .then((value) => {
        setData(value);
        setError(undefined);
      })
      .catch((reason: unknown) => setError(reason instanceof Error ? reason : new Error(String(reason))))
      .finally(() => {
        busy.current = false;
      });
  }, []);
  useEffect(() => {
    if (!enabled) {
      setData(undefined);
      setError(undefined);
      return;
    }
    refresh();
    const timer = setInterval(refresh, intervalMs);
    return () => clearInterval(timer);
  }, [refresh, intervalMs, enabled]);
  return { data, error, refresh };
}
