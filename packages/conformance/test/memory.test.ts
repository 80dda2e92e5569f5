import { createMemoryTransport, type Headers, MemoryBroker, type MessageTransport } from '@mailroom/core';
import { messageOnly } from '@mailroom/core/testing';
import { describeTransport, type RawAccess } from '../src/index.js';

const broker = new MemoryBroker();
const raw: RawAccess = {
  // The broker's own queue, with headers as a hostile caller could pass them (any value types).
  connect: async () => ({
    async inject(endpoint, type, message) {
      if (typeof message.headers === 'string') throw new Error('the memory broker keeps headers as an object');
      broker.enqueue({ route: { kind: 'command', type, destination: endpoint }, headers: message.headers as Headers, body: message.body });
    },
    async close() {},
  }),
};

describeTransport({
  name: 'memory',
  connect: async () => createMemoryTransport({ broker }),
  raw,
  teardown: async () => broker.dispose(),
  stressRounds: 3,
});

// The same transport with only its message-moving part (no deadLetters, no queues(), so no
// deadLetterQueue capability): the suite runs what needs no management and skips the rest.
describeTransport({
  name: 'memory without TransportAdmin',
  connect: async (): Promise<MessageTransport> => {
    const inner = messageOnly(createMemoryTransport({ broker }));
    return { ...inner, capabilities: { ...inner.capabilities, deadLetterQueue: false } };
  },
  raw,
  stressRounds: 0,
  stressParallelism: 0,
});
