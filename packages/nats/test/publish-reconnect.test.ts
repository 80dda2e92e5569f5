import { Services, serviceAvailable, startProxy, testMessage, uniqueName, waitUntil } from '@mailroom/conformance';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { createNatsTransport } from '../src/index.js';
import { ATTEMPT_TIMEOUT_MS } from '../src/publish-durably.js';
import { deleteStreams, NATS_URL, uniquePrefix } from './helpers.js';

const available = await serviceAvailable(Services.nats);
const prefix = uniquePrefix('reconnect');
const IN_FLIGHT = 100;

// Not disruptive: the connection that fails is this test's own, through its own proxy.
describe.runIf(available)('NATS publishes whose answers were lost with the connection', () => {
  afterAll(() => deleteStreams(prefix));

  it(`are sent again as soon as the connection is back, not after the ${ATTEMPT_TIMEOUT_MS} ms attempt timeout, and stored once`, async () => {
    const proxy = await startProxy(4222);
    const observer = await connect({ servers: NATS_URL });
    const transport = await createNatsTransport({
      servers: `127.0.0.1:${proxy.port}`,
      prefix,
      publishTimeoutMs: 60_000,
      connectOptions: { reconnectTimeWait: 50 },
    });
    try {
      const type = uniqueName('Answered');
      await transport.publish(testMessage(type, new Uint8Array([0])));
      const jsm = await jetstreamManager(observer);
      const lastSeq = async () => (await jsm.streams.info(transport.names.eventsStream)).state.last_seq;
      const before = await lastSeq();

      // The server stores every message but its answers never reach the client; then the connection dies.
      proxy.dropAnswers(true);
      const started = performance.now();
      const publishes = Array.from({ length: IN_FLIGHT }, () => transport.publish(testMessage(type, new Uint8Array([1]))).then(() => performance.now()));
      await waitUntil(async () => (await lastSeq()) >= before + IN_FLIGHT, 10_000);
      const storedAfter = performance.now() - started;
      proxy.dropAnswers(false);
      proxy.cut();
      const confirmedAt = await Promise.all(publishes);
      const lastConfirmed = Math.max(...confirmedAt) - started;
      console.log(
        `[nats reconnect] ${IN_FLIGHT} publishes stored by ${Math.round(storedAfter)} ms, answers lost with the connection; all confirmed ${Math.round(lastConfirmed)} ms after they were sent`,
      );

      // Every first attempt lost its answer: a publish confirmed before the attempt timeout was sent again on reconnect.
      expect(lastConfirmed).toBeLessThan(ATTEMPT_TIMEOUT_MS);
      // Sent twice, stored once: JetStream dropped the second copies by their Nats-Msg-Id.
      expect(await lastSeq()).toBe(before + IN_FLIGHT);
    } finally {
      await transport.close();
      await observer.close();
      await proxy.close();
    }
  });
});
