import { Services, serviceAvailable, startProxy, type TcpProxy, testMessage, uniqueName, waitUntil } from '@mailroom/conformance';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { createNatsTransport, type NatsTransport } from '../src/index.js';
import { ATTEMPT_TIMEOUT_MS } from '../src/publish-durably.js';
import { deleteStreams, NATS_URL, uniquePrefix } from './helpers.js';

const available = await serviceAvailable(Services.nats);
const prefix = uniquePrefix('reconnect');
const IN_FLIGHT = 100;

// Not disruptive: the connection that fails is this test's own, through its own proxy.
describe.runIf(available)('NATS publishes whose answers were lost with the connection', () => {
  afterAll(() => deleteStreams(prefix));

  /**
   * Publishes `IN_FLIGHT` messages whose answers the proxy throws away until the server stored them
   * all, then lets answers through again and calls `recover` (what should make the transport send
   * them again). Resolves with how long after they were sent the last one was confirmed, checking
   * that each was stored once.
   */
  async function loseAnswers(recover: (proxy: TcpProxy, transport: NatsTransport) => Promise<void> | void): Promise<number> {
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
      proxy.dropAnswers(true);
      const started = performance.now();
      const publishes = Array.from({ length: IN_FLIGHT }, () => transport.publish(testMessage(type, new Uint8Array([1]))).then(() => performance.now()));
      await waitUntil(async () => (await lastSeq()) >= before + IN_FLIGHT, 10_000);
      const storedAfter = performance.now() - started;
      proxy.dropAnswers(false);
      await recover(proxy, transport);
      const lastConfirmed = Math.max(...(await Promise.all(publishes))) - started;
      console.log(
        `[nats lost answers] ${IN_FLIGHT} publishes stored by ${Math.round(storedAfter)} ms; all confirmed ${Math.round(lastConfirmed)} ms after they were sent`,
      );
      // Sent twice, stored once: JetStream dropped the second copies by their Nats-Msg-Id.
      expect(await lastSeq()).toBe(before + IN_FLIGHT);
      return lastConfirmed;
    } finally {
      await transport.close();
      await observer.close();
      await proxy.close();
    }
  }

  // Every first attempt lost its answer: a publish confirmed before the attempt timeout was sent again early.
  it(`are sent again as soon as the connection is back, not after the ${ATTEMPT_TIMEOUT_MS} ms attempt timeout, and stored once`, async () => {
    expect(await loseAnswers((proxy) => proxy.cut())).toBeLessThan(ATTEMPT_TIMEOUT_MS);
  });

  it('are sent again as soon as one of the transport streams elects a leader (a cluster lost the old one), and stored once', async () => {
    const lastConfirmed = await loseAnswers(async (_proxy, transport) => {
      // What the new leader of a stream announces in a cluster; here another client says it, on the same subject.
      const announcer = await connect({ servers: NATS_URL });
      announcer.publish(`$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.${transport.names.eventsStream}`, '{}');
      await announcer.flush();
      await announcer.close();
    });
    expect(lastConfirmed).toBeLessThan(ATTEMPT_TIMEOUT_MS);
  });
});
