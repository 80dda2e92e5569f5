/**
 * `@mailroom/rabbitmq`: the RabbitMQ transport. Create it with {@link createRabbitMqTransport}
 * (a URL or your own amqplib connection), or let `connectTransport('amqp://...')` load it.
 */
export type { AmqpChannel, AmqpConfirmChannel, AmqpConnection, AmqpMessage } from './amqp-types.js';
export { RabbitMqErrorCodes } from './errors.js';
export type { EnvelopeHeaders } from './headers.js';
export { DELAY_LEVELS, DELAY_UNIT_MS, MAX_DELAY_MS, type TopologyNames, topologyNames } from './names.js';
export type { RabbitMqQueueType, RabbitMqTransportOptions } from './options.js';
export { createRabbitMqTransport, createTransportFromUrl, type RabbitMqTransport, rabbitMqCapabilities } from './rabbitmq-transport.js';
