/** What {@link batchFrameWrites} touches of amqplib's connection model (internals of amqplib 0.10 - 2.x). */
interface MuxedConnection {
  readonly muxer?: { _readIncoming?: unknown; [BATCHED]?: true };
  readonly stream?: { cork?: unknown; uncork?: unknown };
}

const BATCHED = Symbol('mailroom.batchedFrameWrites');

/**
 * Makes amqplib hand the frames it queued for the socket to the kernel in one write per pass of
 * its multiplexer, instead of one `write()` system call per frame. amqplib queues every frame
 * (a publish, an ack) in its channel's buffer; on the next turn of the event loop its `Mux` copies
 * them to the socket one `socket.write()` at a time, and with Nagle's algorithm off each is a
 * system call of its own (a fifth of the process's CPU in a throughput profile). Here the socket is
 * corked for the length of that pass and uncorked at its end, so Node writes the frames with one
 * `writev`. The bytes, their order and the moment they leave (the end of the same pass) do not
 * change. Applied to `model` (what amqplib's `connect` resolves to or its recovering connection
 * emits on `connect`); does nothing, and returns false, when amqplib's internals are not the
 * expected ones.
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
  muxer[BATCHED] = true;
  return true;
}
