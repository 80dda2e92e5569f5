import { join } from 'node:path';
import { type RunningConsole, startConsole } from '@mailroom/console';
import type { Logger } from '@mailroom/core';
import { connectShopTransport } from '../runtime/shop-transport.js';
import type { ShopConfig } from '../shop-config.js';
import { shopSystem } from '../system.js';

/**
 * Starts the Mailroom console for the shop, in the supervisor's process: its own connection to the
 * shop's transport, the shop's system (contracts for edit-and-retry, the choreography graph), the
 * shop's operator token (so one login link opens both), on loopback (`SHOP_CONSOLE_PORT`, default
 * any free port), its audit log and archive in `<dataDir>/console`.
 */
export async function startShopConsole(config: ShopConfig, token: string, logger: Logger): Promise<{ console: RunningConsole; close(): Promise<void> }> {
  const transport = await connectShopTransport(config, logger, 'console');
  try {
    const running = await startConsole({
      transport,
      system: shopSystem,
      token,
      dataDir: join(config.dataDir, 'console'),
      host: '127.0.0.1',
      port: Number(process.env.SHOP_CONSOLE_PORT ?? 0),
    });
    return {
      console: running,
      close: async () => {
        await running.close();
        await transport.close();
      },
    };
  } catch (error) {
    await transport.close();
    throw error;
  }
}
