import { describeTransport, Services, serviceAvailable } from '@mailroom/conformance';
import { describe } from 'vitest';
import { createNatsTransport } from '../src/index.js';
import { describeNatsDeliveries } from './delivery-suite.js';
import { deleteStreams, uniquePrefix } from './helpers.js';
import { describeNatsRestart } from './restart-suite.js';

const available = await serviceAvailable(Services.nats);
const prefix = uniquePrefix('conf');

// One file, so its groups run one after the other: the restart test, last, stops the server and
// must not overlap the timing-sensitive tests.
describe.runIf(available)('NATS JetStream', () => {
  describeTransport({
    name: 'nats',
    connect: () => createNatsTransport({ servers: '127.0.0.1:4222', prefix, ackWaitMs: 5000 }),
    teardown: () => deleteStreams(prefix),
  });
  describeNatsDeliveries();
  describeNatsRestart();
});
