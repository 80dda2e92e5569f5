import { Services, serviceAvailable } from '@mailroom/conformance';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { publishDurably } from '../src/publish-durably.js';
import { ResendSignal } from '../src/resend-signal.js';
import { NATS_URL, uniquePrefix } from './helpers.js';

const available = await serviceAvailable(Services.nats);

describe.runIf(available)('publishDurably', () => {
  // A wait shared by every publish until the next reconnect kept a reaction of each one: a leak on a connection that never drops.
  it('keeps nothing of an answered publish waiting for the next resend', async () => {
    const nc = await connect({ servers: NATS_URL });
    const jsm = await jetstreamManager(nc);
    const stream = uniquePrefix('pd').toUpperCase();
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
    try {
      const resend = new ResendSignal();
      const context = {
        nc,
        js: jetstream(nc),
        timeoutMs: 10_000,
        closed: () => false,
        connected: () => true,
        recreateTopology: async () => undefined,
        resend,
      };
      const acks = await Promise.all(
        Array.from({ length: 50 }, (_, i) => publishDurably(context, `${stream}.x`, new Uint8Array([i]), { headers: headers(), msgID: `m${i}` })),
      );
      expect(acks.map((ack) => ack.duplicate)).toEqual(Array(50).fill(false));
      expect(resend.size).toBe(0);
    } finally {
      await jsm.streams.delete(stream).catch(() => undefined);
      await nc.close();
    }
  });
});
