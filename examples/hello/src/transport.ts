import { connectTransport, type Transport } from '@mailroom/core';

/** The broker both services use: `MAILROOM_TRANSPORT` (a SQLite path, amqp://, nats://), default `.mailroom/hello.db`. */
export function connect(): Promise<Transport> {
  return connectTransport(process.env.MAILROOM_TRANSPORT ?? '.mailroom/hello.db');
}
