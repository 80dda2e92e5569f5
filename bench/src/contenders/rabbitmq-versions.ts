import { commandOutput, packageVersion, packageVersions } from '../versions.js';
import { amqplib, amqplibResolvedFrom, RABBITMQ_URL } from './amqplib-client.js';

/** RabbitMQ's version (`rabbitmqctl version`, else the server properties of a connection) and the client packages'. */
export async function rabbitMqVersions(): Promise<Record<string, string>> {
  let server = await commandOutput('rabbitmqctl', ['version']);
  if (server.startsWith('unavailable')) {
    const connection = (await amqplib.connect(RABBITMQ_URL)) as unknown as {
      connection: { serverProperties: { version?: string } };
      close(): Promise<void>;
    };
    server = `${connection.connection.serverProperties.version ?? 'unknown'} (server properties)`;
    await connection.close();
  }
  return {
    rabbitmq: server,
    amqplib: packageVersion('amqplib', amqplibResolvedFrom),
    ...packageVersions(['@mailroom/core', '@mailroom/rabbitmq', 'zod']),
  };
}
