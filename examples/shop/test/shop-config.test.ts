import { describe, expect, it } from 'vitest';
import { DEFAULT_DATA_DIR, readShopConfig, ShopConfigError } from '../src/shop-config.js';

describe('readShopConfig', () => {
  it('runs on SQLite with nothing set: the broker file and the databases in .mailroom/shop at the repository root', () => {
    const config = readShopConfig({});
    expect(config.dataDir).toBe(DEFAULT_DATA_DIR);
    expect(DEFAULT_DATA_DIR).toMatch(/[\\/]\.mailroom[\\/]shop$/);
    expect(config.transportUrl).toBe(`${DEFAULT_DATA_DIR}/broker.db`);
    expect(config).toMatchObject({
      transportKind: 'sqlite',
      pgUrl: undefined,
      port: 3000,
      namespace: undefined,
      poisonFault: true,
      opsHost: '127.0.0.1',
      paymentTimeoutMs: 30_000,
    });
    expect(readShopConfig({ SHOP_PAYMENT_TIMEOUT_MS: '3000' }).paymentTimeoutMs).toBe(3000);
    expect(readShopConfig({ SHOP_OPS_HOST: '0.0.0.0' }).opsHost).toBe('0.0.0.0');
  });

  it('takes RabbitMQ, NATS and a PostgreSQL server from the environment', () => {
    expect(readShopConfig({ MAILROOM_TRANSPORT: 'amqp://guest:guest@localhost' }).transportKind).toBe('rabbitmq');
    expect(readShopConfig({ MAILROOM_TRANSPORT: 'nats://localhost:4222' }).transportKind).toBe('nats');
    expect(readShopConfig({ MAILROOM_TRANSPORT: 'postgres://postgres@127.0.0.1:5432/shop_broker' }).transportKind).toBe('postgres');
    expect(readShopConfig({ MAILROOM_TRANSPORT: 'postgresql://postgres@127.0.0.1/shop_broker' }).transportKind).toBe('postgres');
    const config = readShopConfig({ SHOP_PG_URL: 'postgres://postgres@127.0.0.1:5432', SHOP_NAMESPACE: 'demo', PORT: '0', SHOP_POISON_FAULT: 'off' });
    expect(config).toMatchObject({ pgUrl: 'postgres://postgres@127.0.0.1:5432', pgDatabasePrefix: 'shop_', namespace: 'demo', port: 0, poisonFault: false });
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT="eighty" is not valid/],
    [{ PORT: '70000' }, /between 0 and 65535/],
    [{ MAILROOM_TRANSPORT: 'kafka://localhost' }, /not a transport the shop runs on/],
    [{ SHOP_PG_URL: 'mysql://localhost' }, /must start with postgres:\/\//],
    [{ SHOP_PG_URL: 'postgres://postgres:secret@localhost/orders' }, /names a database \(orders\): give the server only/],
    [{ SHOP_NAMESPACE: 'Shop!' }, /SHOP_NAMESPACE="Shop!" is not valid/],
    [{ SHOP_POISON_FAULT: 'maybe' }, /set it to on or off/],
    [{ SHOP_PAYMENT_TIMEOUT_MS: 'soon' }, /SHOP_PAYMENT_TIMEOUT_MS="soon" is not valid/],
    [{ SHOP_PAYMENT_TIMEOUT_MS: '50' }, /between 100 and 86400000/],
    [{ SHOP_RETRY_DELAY_MS: '1' }, /between 10 and 600000/],
    [{ SHOP_OPS_HOST: 'any host; rm -rf' }, /SHOP_OPS_HOST=.* is not valid: set it to an IP address/],
  ])('fails fast on %j, saying what to set', (env, message) => {
    expect(() => readShopConfig(env)).toThrow(ShopConfigError);
    expect(() => readShopConfig(env)).toThrow(message);
  });

  it('never shows a PostgreSQL password in its messages', () => {
    expect(() => readShopConfig({ SHOP_PG_URL: 'postgres://postgres:secret@localhost/orders' })).toThrow(/postgres:\*\*\*@/);
  });
});
