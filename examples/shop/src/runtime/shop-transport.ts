import { type ConnectOptions, connectTransport, type Logger, type Transport } from '@mailroom/core';
import { parsePostgresUrl } from '@mailroom/postgres';
import type { ShopConfig } from '../shop-config.js';
import { ensurePgDatabase } from './pg-databases.js';

/**
 * Connects the shop's transport: the SQLite broker file by default, RabbitMQ, NATS JetStream or
 * PostgreSQL when `MAILROOM_TRANSPORT` says so. With `SHOP_NAMESPACE`, broker-side names get that
 * prefix (RabbitMQ exchanges and queues, NATS streams, PostgreSQL tables), so several shops can
 * share one broker. On PostgreSQL the broker database is created when missing.
 */
export async function connectShopTransport(config: ShopConfig, logger: Logger, connectionName: string): Promise<Transport> {
  const options: ConnectOptions = { logger };
  const namespace = config.namespace;
  if (config.transportKind === 'rabbitmq') {
    options.connectionName = connectionName;
    if (namespace !== undefined) {
      options.namespace = namespace;
      options.queueName = (endpoint: string) => `${namespace}.${endpoint}`;
    }
  } else if (config.transportKind === 'nats') {
    options.connectOptions = { name: connectionName };
    if (namespace !== undefined) options.prefix = namespace;
  } else if (config.transportKind === 'postgres') {
    // Each service process keeps a small pool: the statements are short and no handler holds a connection.
    options.poolSize = 4;
    if (namespace !== undefined) options.tablePrefix = `${namespace.replaceAll('-', '_')}_`;
    const { connectionString } = parsePostgresUrl(config.transportUrl);
    const database = decodeURIComponent(new URL(connectionString).pathname.slice(1));
    if (database !== '') await ensurePgDatabase(connectionString, database);
  }
  return connectTransport(config.transportUrl, options);
}
