import { request } from 'undici';

/** One Server-Sent Event as received. */
export interface ReceivedEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/** A Server-Sent Events client for tests, on undici: parses the stream as the WHATWG spec says. */
export interface SseConnection {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly events: ReceivedEvent[];
  /** Comment lines (heartbeats). */
  readonly comments: string[];
  /** The `retry:` value, if sent. */
  readonly retry: number | undefined;
  /** Resolves when the server ended the stream or it was closed. */
  readonly ended: Promise<void>;
  /** Resolves once `count` events have arrived in all; rejects after `timeoutMs`. */
  waitForEvents(count: number, timeoutMs?: number): Promise<ReceivedEvent[]>;
  /** Resolves once `count` comments arrived. */
  waitForComments(count: number, timeoutMs?: number): Promise<string[]>;
  /** Drops the connection, as a network failure would. */
  close(): void;
}

/** Opens an event stream at `url`, optionally resuming after `lastEventId`. */
export async function openSse(url: string, options: { lastEventId?: string } = {}): Promise<SseConnection> {
  const controller = new AbortController();
  const response = await request(url, {
    headers: { accept: 'text/event-stream', ...(options.lastEventId !== undefined && { 'last-event-id': options.lastEventId }) },
    signal: controller.signal,
  });
  const events: ReceivedEvent[] = [];
  const comments: string[] = [];
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  let retry: number | undefined;
  const connection: SseConnection = {
    status: response.statusCode,
    headers: response.headers,
    events,
    comments,
    get retry() {
      return retry;
    },
    ended: (async () => {
      let buffer = '';
      let current: { id?: string; event?: string; data: string[] } = { data: [] };
      try {
        for await (const chunk of response.body) {
          buffer += (chunk as Buffer).toString('utf8');
          let newline = buffer.search(/\r\n|\r|\n/);
          while (newline !== -1) {
            const line = buffer.slice(0, newline);
            buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
            if (line === '') {
              if (current.data.length > 0) events.push({ id: current.id, event: current.event ?? 'message', data: current.data.join('\n') });
              current = { data: [] };
              notify();
            } else if (line.startsWith(':')) {
              comments.push(line.slice(1).trim());
            } else {
              const colon = line.indexOf(':');
              const field = colon === -1 ? line : line.slice(0, colon);
              const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
              if (field === 'data') current.data.push(value);
              else if (field === 'id') current.id = value;
              else if (field === 'event') current.event = value;
              else if (field === 'retry') retry = Number(value);
            }
            newline = buffer.search(/\r\n|\r|\n/);
          }
        }
      } catch {
        // aborted by close()
      } finally {
        notify();
      }
    })(),
    waitForEvents(count, timeoutMs = 5000) {
      return waitFor(
        () => events.length >= count,
        timeoutMs,
        () => `${events.length}/${count} events: ${events.map((e) => e.event).join(', ')}`,
      ).then(() => events.slice(0, count));
    },
    waitForComments(count, timeoutMs = 5000) {
      return waitFor(
        () => comments.length >= count,
        timeoutMs,
        () => `${comments.length}/${count} comments`,
      ).then(() => comments.slice(0, count));
    },
    close() {
      controller.abort();
    },
  };
  function waitFor(condition: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`SSE: timed out after ${timeoutMs} ms waiting for ${describe()}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  }
  return connection;
}
