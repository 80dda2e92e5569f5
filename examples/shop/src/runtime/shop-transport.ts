import { type ConnectOptions, connectTransport, type Logger, type Transport } from '@mailroom/core';
import type { ShopConfig } from '../shop-config.js';

/**
 * Connects the shop's transport: the SQLite broker file by default, RabbitMQ or NATS JetStream when
 * `MAILROOM_TRANSPORT` says so. With `SHOP_NAMESPACE`, broker-side names get that prefix (RabbitMQ
 * exchanges and queues, NATS streams), so several shops can share one broker.
 */
export function connectShopTransport(config: ShopConfig, logger: Logger, connectionName: string): Promise<Transport> {
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
  }
  return connectTransport(config.transportUrl, options);
}
