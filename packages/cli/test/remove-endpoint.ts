// The CLI reads a broker's default namespace (a URL names no namespace), so its broker tests cannot
// keep to a namespace of their own as the adapters' tests do: they remove what each endpoint left instead.
import type { Transport } from '@mailroom/core';
import type { NatsTransport } from '@mailroom/nats';
import type { RabbitMqTransport } from '@mailroom/rabbitmq';

const LOCK_TIMEOUT_MS = 10_000;

/**
 * Removes what a stopped test endpoint left on a shared broker: its dead letters, and on RabbitMQ its
 * queue and its records in the endpoint registry, on NATS its durable consumers. Nothing else of the
 * shared namespace is touched. A SQLite broker lives in a temporary directory and needs nothing more.
 */
export async function removeEndpoint(transport: Transport, url: string, endpoint: string, events: readonly string[]): Promise<void> {
  await transport.deadLetters.purge({ endpoint });
  if (transport.name === 'rabbitmq') await removeRabbitMqEndpoint(transport as RabbitMqTransport, url, endpoint);
  if (transport.name === 'nats') await removeNatsConsumers(transport as NatsTransport, endpoint, events);
}

async function removeRabbitMqEndpoint(transport: RabbitMqTransport, url: string, endpoint: string): Promise<void> {
  const { connect } = await import('amqplib');
  const connection = await connect(url);
  try {
    const channel = await connection.createChannel();
    await channel.deleteQueue(transport.queueOf(endpoint));
    await channel.close();
    // Registry records are removed under the registry's lock, an exclusive consumer on its lock queue, as the transport browses it.
    const { registry, lock } = transport.topology;
    for (const deadline = Date.now() + LOCK_TIMEOUT_MS; ; ) {
      const browse = await connection.createChannel();
      browse.on('error', () => undefined);
      try {
        await browse.consume(lock(registry), () => undefined, { exclusive: true, noAck: true });
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      for (let message = await browse.get(registry); message !== false; message = await browse.get(registry)) {
        if (recordEndpoint(message.content) === endpoint) browse.ack(message);
      }
      await browse.close(); // the other records go back to the registry
      return;
    }
  } finally {
    await connection.close();
  }
}

function recordEndpoint(content: Buffer): unknown {
  try {
    return (JSON.parse(content.toString('utf8')) as { endpoint?: unknown }).endpoint;
  } catch {
    return undefined;
  }
}

async function removeNatsConsumers(transport: NatsTransport, endpoint: string, events: readonly string[]): Promise<void> {
  const { names, connection } = transport;
  const consumers = [
    [names.commandsStream, names.commandConsumer(endpoint)],
    ...events.map((type) => [names.eventsStream, names.eventConsumer(endpoint, type)]),
  ];
  for (const [stream, consumer] of consumers) {
    const answer = (await connection.request(`$JS.API.CONSUMER.DELETE.${stream}.${consumer}`)).json<{ error?: { code?: number; description?: string } }>();
    if (answer.error && answer.error.code !== 404) throw new Error(`Cannot delete consumer ${consumer} of ${stream}: ${answer.error.description}`);
  }
}
