import type { ServerResponse } from 'node:http';

/** One Server-Sent Event. */
export interface SseEvent {
  readonly id?: string | number;
  readonly event?: string;
  /** Serialized as JSON unless already a string; a multi-line string becomes several `data:` lines. */
  readonly data: unknown;
}

/** Formats one event in the `text/event-stream` syntax (WHATWG HTML §9.2), ending with the blank line that dispatches it. */
export function formatSseEvent(event: SseEvent): string {
  const data = typeof event.data === 'string' ? event.data : JSON.stringify(event.data);
  let text = '';
  if (event.id !== undefined) text += `id: ${String(event.id).replace(/[\r\n]/g, '')}\n`;
  if (event.event !== undefined) text += `event: ${event.event.replace(/[\r\n]/g, '')}\n`;
  for (const line of data.split(/\r\n|\r|\n/)) text += `data: ${line}\n`;
  return `${text}\n`;
}

/**
 * Writes an event stream to a raw Node response, waiting for `drain` when the socket buffer is full.
 * Every write after the client went away is a no-op; `closed` resolves when it goes away or `end()` is called.
 */
export class SseWriter {
  private ended = false;
  /** Resolves once the stream is over, whoever ended it. */
  readonly closed: Promise<void>;
  /** When the last bytes were written (for heartbeats). */
  lastWriteAt = Date.now();

  constructor(private readonly response: ServerResponse) {
    this.closed = new Promise((resolve) => {
      const done = () => {
        this.ended = true;
        resolve();
      };
      response.once('close', done);
      response.once('finish', done);
    });
  }

  /** True once the client went away or the stream was ended. */
  get isClosed(): boolean {
    return this.ended || this.response.destroyed;
  }

  /** Writes an event; resolves once the socket accepted it (or the stream is closed). */
  event(event: SseEvent): Promise<void> {
    return this.write(formatSseEvent(event));
  }

  /** Writes a comment line, which clients ignore: a heartbeat keeping proxies and sockets from timing out. */
  comment(text: string): Promise<void> {
    return this.write(`: ${text.replace(/[\r\n]/g, ' ')}\n\n`);
  }

  /** Tells the client how long to wait before reconnecting. */
  retry(ms: number): Promise<void> {
    return this.write(`retry: ${Math.max(0, Math.round(ms))}\n\n`);
  }

  /** Ends the response. Idempotent. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.response.end();
  }

  private write(text: string): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    this.lastWriteAt = Date.now();
    if (this.response.write(text)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.response.off('drain', done);
        this.response.off('close', done);
        resolve();
      };
      this.response.once('drain', done);
      this.response.once('close', done);
    });
  }
}
