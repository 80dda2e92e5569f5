/**
 * `@mailroom/http/browser`: follows an operation from a web page. A standalone ES module with no
 * imports: serve the built `watch-operation.js` as it is and `import { watchOperation } from '/…/watch-operation.js'`.
 */

/** Where an operation stands; the last three are final. */
export type OperationStatus = 'pending' | 'completed' | 'failed' | 'timed-out';

/** One history entry of an operation. */
export interface OperationEntry {
  readonly seq: number;
  readonly kind: 'started' | 'step' | 'completed' | 'failed' | 'timed-out';
  readonly type: string;
  readonly messageId: string;
  readonly at: string;
  readonly recordedAt: string;
  readonly data?: unknown;
}

/** An operation as the page sees it: the same shape as `GET /operations/:id`. */
export interface OperationSnapshot {
  readonly id: string;
  readonly name: string;
  readonly status: OperationStatus;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly endedAt?: string;
  readonly deadline?: string;
  readonly steps: readonly { readonly type: string; readonly label: string; readonly done: boolean; readonly at?: string }[];
  readonly entries: readonly OperationEntry[];
}

/** Options of {@link watchOperation}. */
export interface WatchOperationOptions {
  /** `auto` (default): Server-Sent Events, polling when `EventSource` is missing or the stream fails; `poll`: polling only. */
  mode?: 'auto' | 'poll';
  /** Polling interval. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Called with each failure to read the operation (network errors while polling, a 404). */
  onError?: (error: Error) => void;
}

/** A running watch. */
export interface OperationWatch {
  /** Resolves with the operation once it reached a final state (or with the last snapshot seen when closed first). */
  readonly done: Promise<OperationSnapshot | undefined>;
  /** `sse` or `poll`: how updates arrive right now. */
  readonly mode: 'sse' | 'poll';
  /** Stops watching. */
  close(): void;
}

const KINDS = ['started', 'step', 'completed', 'failed', 'timed-out'] as const;

function isFinal(status: OperationStatus): boolean {
  return status !== 'pending';
}

/**
 * Follows the operation at `url` (the `Location` of a `202 Accepted`) and calls `onUpdate` with the
 * whole snapshot each time it changes, until it is completed, failed or timed out. Uses
 * `EventSource` on `<url>/events` (which resumes after a dropped connection with `Last-Event-ID`,
 * so no step is missed) and falls back to polling `GET <url>` when `EventSource` is unavailable or
 * the stream cannot be opened. Never calls `onUpdate` twice for the same state.
 */
export function watchOperation(url: string, onUpdate: (operation: OperationSnapshot) => void, options: WatchOperationOptions = {}): OperationWatch {
  const base = url.replace(/\/+$/, '');
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  let snapshot: OperationSnapshot | undefined;
  let closed = false;
  let source: EventSource | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let mode: 'sse' | 'poll' = 'poll';
  let finish: (value: OperationSnapshot | undefined) => void = () => undefined;
  const done = new Promise<OperationSnapshot | undefined>((resolve) => {
    finish = resolve;
  });

  const stop = () => {
    closed = true;
    source?.close();
    if (timer !== undefined) clearTimeout(timer);
    finish(snapshot);
  };
  const update = (next: OperationSnapshot) => {
    const lastSeq = snapshot?.entries[snapshot.entries.length - 1]?.seq ?? 0;
    const nextSeq = next.entries[next.entries.length - 1]?.seq ?? 0;
    if (snapshot && nextSeq <= lastSeq) return;
    snapshot = next;
    onUpdate(next);
    if (isFinal(next.status)) stop();
  };
  const report = (error: Error) => options.onError?.(error);

  const poll = async () => {
    if (closed) return;
    try {
      const response = await fetch(base, { headers: { accept: 'application/json' }, cache: 'no-store' });
      if (response.ok) update((await response.json()) as OperationSnapshot);
      else report(new Error(`GET ${base} answered ${response.status}`));
    } catch (error) {
      report(error instanceof Error ? error : new Error(String(error)));
    }
    if (!closed) timer = setTimeout(poll, pollIntervalMs);
  };
  const startPolling = () => {
    mode = 'poll';
    source?.close();
    source = undefined;
    void poll();
  };

  if (options.mode !== 'poll' && typeof EventSource === 'function') {
    mode = 'sse';
    source = new EventSource(`${base}/events`);
    const onEvent = (event: MessageEvent<string>) => {
      const { entry, ...rest } = JSON.parse(event.data) as Omit<OperationSnapshot, 'entries'> & { entry: OperationEntry };
      const entries = (snapshot?.entries ?? []).filter((known) => known.seq < entry.seq);
      update({ ...rest, entries: [...entries, entry] });
    };
    for (const kind of KINDS) source.addEventListener(kind, onEvent as EventListener);
    source.addEventListener('error', () => {
      // CONNECTING: the browser reconnects by itself with Last-Event-ID. CLOSED: it gave up
      // (an error status, a wrong content type, or a 204 after the end): fall back to polling.
      if (!closed && source?.readyState === EventSource.CLOSED) startPolling();
    });
  } else {
    startPolling();
  }

  return {
    done,
    get mode() {
      return mode;
    },
    close: stop,
  };
}
