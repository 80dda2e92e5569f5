import type { IncomingHttpHeaders } from 'node:http';
import { type Dispatcher, util } from 'undici';

/** Why {@link requestBuffered} gave up on a request (a dispatcher's own failure is rejected as it is). */
export type BufferedRequestFailureKind = 'timeout' | 'aborted' | 'too-large';

/**
 * A request {@link requestBuffered} stopped: its timeout fired (`timeout`), its `signal` aborted
 * (`aborted`, `cause` the signal's reason) or its body exceeded the limit (`too-large`, with the
 * answered `status`). The request was aborted with this error as its reason.
 */
export class BufferedRequestFailure extends Error {
  override readonly name = 'BufferedRequestFailure';
  constructor(
    readonly kind: BufferedRequestFailureKind,
    message: string,
    readonly status?: number,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

/** One request of {@link requestBuffered}. */
export interface BufferedRequestOptions {
  origin: string;
  /** Path and query. */
  path: string;
  method: Dispatcher.HttpMethod;
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
  /** Longest time the request may take, body included. */
  timeoutMs: number;
  /** Largest body read: a larger one (announced by `content-length` or streamed) fails the request. */
  maxResponseBytes: number;
  /** Aborts the request. */
  signal: AbortSignal | undefined;
}

/** A whole answer: status, headers (names in lower case) and body. */
export interface BufferedResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** The timer's callback: one function for every request, the handler passed as its argument. */
function onTimeout(handler: BufferingHandler): void {
  handler.stop(new BufferedRequestFailure('timeout', `timed out after ${handler.timeoutMs} ms`));
}

/** What aborts a request: undici 7's dispatch controller, or an older dispatcher's `abort` function in an object. */
interface Abortable {
  abort(reason: Error): void;
}

/**
 * A dispatch handler collecting one answer into a Buffer, with one timer and, when there is a signal,
 * one abort listener, both removed when it settles. It settles once: later callbacks (the error of
 * its own abort, say) are ignored. It speaks both handler interfaces: undici 7's controller API
 * (`onRequestStart`...), which undici 7 dispatchers use, and the older one (`onConnect`...), which
 * dispatchers of undici 6 use: Node 20's bundled undici makes one the global dispatcher when
 * `fetch` is called first.
 */
class BufferingHandler implements Dispatcher.DispatchHandler {
  private controller: Abortable | undefined;
  /** Why the request was stopped before the dispatcher handed over its controller: aborted as soon as it does. */
  private stoppedBy: Error | undefined;
  private settled = false;
  private statusCode = 0;
  private headers: IncomingHttpHeaders = {};
  private chunks: Buffer[] = [];
  private size = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly options: BufferedRequestOptions,
    private readonly resolve: (response: BufferedResponse) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.timer = setTimeout(onTimeout, options.timeoutMs, this);
    options.signal?.addEventListener('abort', this);
  }

  get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  /** The signal's abort listener (an EventListener object: no closure per request). */
  handleEvent(): void {
    this.stop(new BufferedRequestFailure('aborted', 'aborted by its signal', undefined, this.options.signal?.reason));
  }

  /** Fails the request with `reason` and aborts it (at once, or when the dispatcher hands over its controller). */
  stop(reason: Error): void {
    if (this.settled) return;
    this.finish();
    if (this.controller) this.controller.abort(reason);
    else this.stoppedBy = reason;
    this.reject(reason);
  }

  /** Clears the timer and the abort listener; nothing happens to the request after it. */
  private finish(): void {
    this.settled = true;
    clearTimeout(this.timer);
    this.options.signal?.removeEventListener('abort', this);
  }

  private start(controller: Abortable): void {
    this.controller = controller;
    if (this.stoppedBy) controller.abort(this.stoppedBy);
  }

  private head(statusCode: number, headers: IncomingHttpHeaders): void {
    this.statusCode = statusCode;
    this.headers = headers;
    // A HEAD answer announces the size of a body it does not carry.
    if (this.options.method !== 'HEAD' && Number(headers['content-length']) > this.options.maxResponseBytes) this.stop(this.tooLarge());
  }

  private tooLarge(): BufferedRequestFailure {
    return new BufferedRequestFailure('too-large', `response body exceeds ${this.options.maxResponseBytes} bytes`, this.statusCode);
  }

  private data(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > this.options.maxResponseBytes) this.stop(this.tooLarge());
    else this.chunks.push(chunk);
  }

  private end(): void {
    this.finish();
    const body = Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    this.resolve({ statusCode: this.statusCode, headers: this.headers, body });
  }

  /** Fails the request with the dispatcher's error (once). */
  fail(error: Error): void {
    if (this.settled) return;
    this.finish();
    this.reject(error);
  }

  // undici 7's controller API.
  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.start(controller);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (!this.settled && statusCode >= 200) this.head(statusCode, headers); // 1xx: informational, the answer follows
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.settled) this.data(chunk);
  }

  onResponseEnd(): void {
    if (!this.settled) this.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.fail(error);
  }

  // The interface of undici 6 (deprecated in undici 7, which uses the one above when both are there).
  onConnect(abort: (reason?: Error) => void): void {
    this.start({ abort });
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (!this.settled && statusCode >= 200) this.head(statusCode, util.parseHeaders(rawHeaders) as IncomingHttpHeaders);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (!this.settled) this.data(chunk);
    return true;
  }

  onComplete(): void {
    if (!this.settled) this.end();
  }

  onError(error: Error): void {
    this.fail(error);
  }
}

/**
 * Sends one request through `dispatcher.dispatch()` and resolves with its whole answer, whatever its
 * status. Rejects with a {@link BufferedRequestFailure} when `timeoutMs` passes first (waiting for a
 * connection, the headers or the rest of the body), when `signal` aborts (already aborted: nothing
 * is sent) or when the body exceeds `maxResponseBytes` (a `content-length` over it fails at the
 * headers, except for HEAD); the request is aborted then. Any other failure is the dispatcher's
 * error (refused, reset, invalid options...). Once it settles no timer or listener is left: nothing
 * fires later.
 */
export function requestBuffered(dispatcher: Dispatcher, options: BufferedRequestOptions): Promise<BufferedResponse> {
  return new Promise<BufferedResponse>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new BufferedRequestFailure('aborted', 'aborted by its signal', undefined, options.signal.reason));
      return;
    }
    const handler = new BufferingHandler(options, resolve, reject);
    try {
      dispatcher.dispatch({ origin: options.origin, path: options.path, method: options.method, headers: options.headers, body: options.body }, handler);
    } catch (error) {
      handler.fail(error as Error);
    }
  });
}
