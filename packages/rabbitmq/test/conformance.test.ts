import { describeTransport, Services, serviceAvailable } from '@mailroom/conformance';
import { describe } from 'vitest';
import { createRabbitMqTransport } from '../src/index.js';
import { rabbitMqRawAccess } from '../src/testing/index.js';
import { holdSharedBrokerLock } from './broker-lock.js';
import { deleteNamespace, RABBITMQ_URL, testNamespace } from './support.js';

const available = await serviceAvailable(Services.rabbitmq);
const namespace = testNamespace('conformance');

describe.runIf(available)('rabbitmq', () => {
  holdSharedBrokerLock();
  describeTransport({
    name: 'rabbitmq',
    connect: () => createRabbitMqTransport({ url: RABBITMQ_URL, namespace }),
    raw: rabbitMqRawAccess(RABBITMQ_URL),
    childProcess: { url: RABBITMQ_URL, options: { namespace } },
    teardown: () => deleteNamespace(namespace),
  });
});
