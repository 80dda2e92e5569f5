/** What {@link batchFrameWrites} touches of amqplib's connection model (internals of amqplib 0.10 - 2.x). */
interface MuxedConnection {
  readonly muxer?: { _readIncoming?: unknown; _scheduleRead?: unknown; scheduledRead?: unknown; [BATCHED]?: true };
  readonly stream?: { cork?: unknown; uncork?: unknown };
}

const BATCHED = Symbol('mailroom.batchedFrameWrites');

/**
 * Makes amqplib hand the frames it queued for the socket to the kernel in one write per pass of
 * its multiplexer, instead of one `write()` system call per frame, and run that pass as soon as
 * the code that queued them is done instead of a turn of the event loop later.
 *
 * amqplib queues every frame (a publish, an ack) in its channel's buffer; its `Mux` copies them to
 * the socket one `socket.write()` at a time, and with Nagle's algorithm off each is a system call of
 * its own (a fifth of the process's CPU in a throughput profile). Here the socket is corked for the
 * length of that pass and uncorked at its end, so Node writes the frames with one `writev`.
 *
 * amqplib schedules the pass with `process.nextTick` here instead of `setImmediate`: a publish (or
 * an ack) no longer waits for the check phase of the event loop, after the I/O callbacks of the turn,
 * before it leaves. Node runs a tick when the code that queued it is done: a frame queued from a
 * promise job leaves with everything the other promise jobs of that moment queue; a frame queued by
 * a callback itself leaves when that callback returns, and frames its promise jobs queue afterwards
 * take a second pass (a second `writev`), still before any I/O callback or `setImmediate`. The bytes
 * and their order do not change; they leave earlier. (Not a `TurnBatcher`: the pass is amqplib's,
 * guarded by its own `scheduledRead` flag.) Applied to `model` (what amqplib's
 * `connect` resolves to or its recovering connection emits on `connect`); does nothing, and
 * returns false, when amqplib's internals are not the expected ones (the scheduling is left as it
 * is when only that part differs).
 */
export function batchFrameWrites(model: unknown): boolean {
  const connection = (model as { connection?: MuxedConnection } | null | undefined)?.connection;
  const muxer = connection?.muxer;
  const stream = connection?.stream;
  if (!muxer || !stream || typeof muxer._readIncoming !== 'function' || typeof stream.cork !== 'function' || typeof stream.uncork !== 'function') {
    return false;
  }
  if (muxer[BATCHED]) return true;
  const readIncoming = muxer._readIncoming as (this: unknown) => void;
  const cork = stream.cork as () => void;
  const uncork = stream.uncork as () => void;
  muxer._readIncoming = function readIncomingCorked(this: unknown): void {
    cork.call(stream);
    try {
      readIncoming.call(this);
    } finally {
      uncork.call(stream);
    }
  };
  if (typeof muxer._scheduleRead === 'function' && typeof muxer.scheduledRead === 'boolean') {
    const mux = muxer as { _readIncoming(): void; scheduledRead: boolean };
    const pass = () => {
      mux.scheduledRead = false;
      mux._readIncoming();
    };
    muxer._scheduleRead = function scheduleReadThisTick(): void {
      if (mux.scheduledRead) return;
      mux.scheduledRead = true;
      process.nextTick(pass);
    };
  }
  muxer[BATCHED] = true;
  return true;
}
