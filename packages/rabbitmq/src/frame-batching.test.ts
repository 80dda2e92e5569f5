import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { batchFrameWrites } from './frame-batching.js';

const require = createRequire(import.meta.url);
/** amqplib's own multiplexer (its package exports only the API, so it is loaded by path). */
const { Mux } = require(join(dirname(require.resolve('amqplib')), 'lib', 'mux.js')) as {
  Mux: new (downstream: Writable) => { pipeFrom(readable: PassThrough): void };
};

/** A stand-in for amqplib's connection model: a Mux whose pass writes frames to a stream. */
function fakeModel() {
  const calls: string[] = [];
  const stream = {
    cork: () => calls.push('cork'),
    uncork: () => calls.push('uncork'),
    write: (frame: string) => calls.push(`write ${frame}`),
  };
  const muxer = {
    queued: ['a', 'b', 'c'],
    _readIncoming(this: { queued: string[] }) {
      for (const frame of this.queued.splice(0)) stream.write(frame);
    },
  };
  return { model: { connection: { muxer, stream } }, muxer, calls };
}

describe('batchFrameWrites', () => {
  it('corks the socket for the length of each pass of the multiplexer, once however often applied', () => {
    const { model, muxer, calls } = fakeModel();
    expect(batchFrameWrites(model)).toBe(true);
    expect(batchFrameWrites(model)).toBe(true);
    muxer._readIncoming();
    expect(calls).toEqual(['cork', 'write a', 'write b', 'write c', 'uncork']);
  });

  it('uncorks even when the pass throws', () => {
    const { model, muxer, calls } = fakeModel();
    muxer._readIncoming = () => {
      throw new Error('boom');
    };
    batchFrameWrites(model);
    expect(() => muxer._readIncoming()).toThrow('boom');
    expect(calls).toEqual(['cork', 'uncork']);
  });

  it('leaves a model without the expected internals alone', () => {
    expect(batchFrameWrites(undefined)).toBe(false);
    expect(batchFrameWrites({})).toBe(false);
    expect(batchFrameWrites({ connection: { muxer: {}, stream: {} } })).toBe(false);
  });

  it("writes what amqplib's multiplexer queued in one writev before the turn's setImmediate callbacks, not after them", async () => {
    const events: string[] = [];
    const socket = new Writable({
      writev(chunks, callback) {
        events.push(`writev ${chunks.map(({ chunk }) => String(chunk)).join('')}`);
        callback();
      },
      write(chunk, _encoding, callback) {
        events.push(`write ${String(chunk)}`);
        callback();
      },
    });
    const muxer = new Mux(socket);
    const channelBuffer = new PassThrough();
    muxer.pipeFrom(channelBuffer);
    expect(batchFrameWrites({ connection: { muxer, stream: socket } })).toBe(true);
    await Promise.resolve().then(() => {
      channelBuffer.write('publish-1;');
      channelBuffer.write('publish-2;');
      setImmediate(() => events.push('setImmediate'));
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(events).toEqual([expect.stringMatching(/^writev? publish-1;publish-2;$/), 'setImmediate']);
  });
});
