import { Services, serviceAvailable } from '@mailroom/conformance';
import { jetstream, jetstreamManager, PubHeaders } from '@nats-io/jetstream';
import { headers, type MsgHdrs } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { encodeHeaders } from '../src/header-codec.js';
import { type PublishContext, publishDurably } from '../src/publish-durably.js';
import { ResendSignal } from '../src/resend-signal.js';
import { NATS_URL, uniquePrefix } from './helpers.js';

const available = await serviceAvailable(Services.nats);

/** Runs `body` with a publish context over a fresh stream `<stream>.>`, deleted afterwards. */
async function withStream(body: (context: PublishContext & { resend: ResendSignal }, stream: string) => Promise<void>): Promise<void> {
  const nc = await connect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  const stream = uniquePrefix('pd').toUpperCase();
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  try {
    const context = {
      nc,
      js: jetstream(nc),
      timeoutMs: 10_000,
      closed: () => false,
      connected: () => true,
      recreateTopology: async () => undefined,
      resend: new ResendSignal(),
    };
    await body(context, stream);
  } finally {
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
  }
}

describe.runIf(available)('publishDurably', () => {
  // A wait shared by every publish until the next reconnect kept a reaction of each one: a leak on a connection that never drops.
  it('keeps nothing of an answered publish waiting for the next resend', async () => {
    await withStream(async (context, stream) => {
      const { resend } = context;
      const acks = await Promise.all(
        Array.from({ length: 50 }, (_, i) => publishDurably(context, `${stream}.x`, new Uint8Array([i]), { headers: headers(), msgID: `m${i}` })),
      );
      expect(acks.map((ack) => ack.duplicate)).toEqual(Array(50).fill(false));
      expect(resend.size).toBe(0);
    });
  });

  it('deduplicates by the msgID whether the headers already carry it or not, and the msgID wins over another carried id', async () => {
    await withStream(async (context, stream) => {
      const publish = (headers: MsgHdrs, msgID: string) => publishDurably(context, `${stream}.x`, new Uint8Array([1]), { headers, msgID });
      const carried = (id: string) => encodeHeaders({ a: 'b' }, { [PubHeaders.MsgIdHdr]: id });
      expect((await publish(carried('one'), 'one')).duplicate).toBe(false);
      expect((await publish(carried('one'), 'one')).duplicate).toBe(true);
      expect((await publish(encodeHeaders({ a: 'b' }), 'one')).duplicate).toBe(true);
      expect((await publish(carried('other'), 'two')).duplicate).toBe(false);
      expect((await publish(encodeHeaders({ a: 'b' }), 'two')).duplicate).toBe(true);
    });
  });
});
