import { describe, expect, it } from 'vitest';
import { batchFrameWrites } from './frame-batching.js';

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
});
