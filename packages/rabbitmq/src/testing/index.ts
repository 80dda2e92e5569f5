/** `@mailroom/rabbitmq/testing`: what the conformance suite and benchmarks need to reach RabbitMQ directly. */
export { rabbitMqRawAccess } from './rabbitmq-raw-access.js';
