import { describeTransport, Services, serviceAvailable } from '@mailroom/conformance';
import { describe } from 'vitest';
import { createNatsTransport } from '../src/index.js';
import { natsRawAccess } from '../src/testing/index.js';
import { describeNatsDeliveries } from './delivery-suite.js';
import { deleteStreams, uniquePrefix } from './helpers.js';

const available = await serviceAvailable(Services.nats);
const prefix = uniquePrefix('conf');

// One file, so its groups run one after the other. The restart test, which stops the server, is
// restart.disruptive.test.ts: Vitest runs it after every other file, alone.
describe.runIf(available)('NATS JetStream', () => {
  describeTransport({
    name: 'nats',
    connect: () => createNatsTransport({ servers: '127.0.0.1:4222', prefix, ackWaitMs: 5000 }),
    raw: natsRawAccess('127.0.0.1:4222', prefix),
    childProcess: { url: 'nats://127.0.0.1:4222', options: { prefix, ackWaitMs: 5000 } },
    teardown: () => deleteStreams(prefix),
  });
  describeNatsDeliveries();
});
