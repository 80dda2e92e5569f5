import { createMemoryTransport, type Headers, MemoryBroker } from '@mailroom/core';
import { describeTransport } from '../src/index.js';

const broker = new MemoryBroker();
describeTransport({
  name: 'memory',
  connect: async () => createMemoryTransport({ broker }),
  raw: {
    // The broker's own queue, with headers as a hostile caller could pass them (any value types).
    connect: async () => ({
      async inject(endpoint, type, message) {
        if (typeof message.headers === 'string') throw new Error('the memory broker keeps headers as an object');
        broker.enqueue({ route: { kind: 'command', type, destination: endpoint }, headers: message.headers as Headers, body: message.body });
      },
      async close() {},
    }),
  },
  teardown: async () => broker.dispose(),
  stressRounds: 3,
});
