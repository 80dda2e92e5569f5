import { describeTransport, Services, serviceAvailable } from '@mailroom/conformance';
import { describe } from 'vitest';
import { createNatsTransport } from '../src/index.js';
import { deleteStreams, uniquePrefix } from './helpers.js';

const available = await serviceAvailable(Services.nats);
const prefix = uniquePrefix('conf');

describe.runIf(available)('NATS JetStream', () => {
  describeTransport({
    name: 'nats',
    connect: () => createNatsTransport({ servers: '127.0.0.1:4222', prefix, ackWaitMs: 5000 }),
    teardown: () => deleteStreams(prefix),
  });
});
