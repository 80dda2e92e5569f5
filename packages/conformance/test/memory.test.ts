import { createMemoryTransport, MemoryBroker } from '@mailroom/core';
import { describeTransport } from '../src/index.js';

const broker = new MemoryBroker();
describeTransport({
  name: 'memory',
  connect: async () => createMemoryTransport({ broker }),
  teardown: async () => broker.dispose(),
  stressRounds: 3,
});
