// The gateway: the shop's HTTP API and web UI. It accepts orders (202 + an operation the browser
// follows over SSE), asks inventory for quotes over RPC (gRPC) with a plan B, and relays the UI's requests
// to the supervisor (stop/start a service, the poison switch). It reads no other service's database.
import { createOperationTracker } from '@mailroom/http';
import { resolveOperatorToken } from '@mailroom/http/operator-auth';
import { createControlClient } from '../gateway/control-client.js';
import { buildGatewayApp } from '../gateway/gateway-app.js';
import { createInventoryClient } from '../gateway/inventory-client.js';
import { openOperationStore } from '../gateway/operation-store.js';
import { uiDirectory } from '../gateway/ui-files.js';
import { shopOperations } from '../operations.js';
import { runService } from '../runtime/run-service.js';
import { describeTransport, ShopConfigError } from '../shop-config.js';
import { TRACKER_ENDPOINT } from '../system.js';

await runService('gateway', async ({ config, db, endpoint, transport, log }) => {
  const inventoryUrl = process.env.SHOP_INVENTORY_URL;
  if (!inventoryUrl) throw new ShopConfigError('SHOP_INVENTORY_URL is not set: the gateway asks inventory over RPC; start the whole shop with npm start');
  const operations = shopOperations(config.orderTimeoutMs);
  const { store, close } = openOperationStore(db);
  const tracker = createOperationTracker({
    transport,
    store,
    name: TRACKER_ENDPOINT,
    operations: [operations.placeOrder, operations.quote],
    recoverability: { immediateRetries: config.immediateRetries, delayedRetries: config.delayedRetries, initialDelayMs: config.retryDelayMs, factor: 4 },
    logger: log,
  });
  // npm start hands every gateway process the same token (SHOP_ADMIN_TOKEN or one it generated and printed).
  const admin = resolveOperatorToken(process.env.SHOP_ADMIN_TOKEN, 'SHOP_ADMIN_TOKEN');
  const inventory = createInventoryClient({ baseUrl: inventoryUrl, halfOpenAfterMs: config.breakerHalfOpenMs, logger: log });
  const app = await buildGatewayApp({
    transport,
    endpoint,
    store,
    operations,
    inventory,
    control: createControlClient(process.env.SHOP_CONTROL_URL, process.env.SHOP_CONTROL_TOKEN),
    system: { transport: config.transportKind, transportDescription: describeTransport(config), databases: db.kind, consoleUrl: process.env.SHOP_CONSOLE_URL },
    uiDirectory: uiDirectory(),
    logger: log,
    adminToken: admin.token,
    maxStreamsPerClient: config.maxStreamsPerClient,
  });
  return {
    afterStart: async () => {
      await tracker.start();
      await app.listen({ port: config.port, host: config.host });
      const address = app.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : config.port;
      const host = ['127.0.0.1', '0.0.0.0', '::', 'localhost'].includes(config.host) ? 'localhost' : config.host;
      void inventory.catalog(); // warm the catalog copy (inventory may still be starting)
      if (admin.generated) log.info({}, `operator login (generated token): ${app.operatorAuth.loginUrl(`http://${host}:${port}`)}`);
      return `http://${host}:${port}`;
    },
    beforeStop: async () => {
      await app.close();
      await tracker.stop();
      inventory.close();
      close();
    },
    healthEndpoints: [tracker.endpoint],
  };
});
