import type { ServiceName } from '../service-names.js';
import { parseWorkers } from './workers-option.js';

/** What `npm start -- ...` asked for. */
export interface StartOptions {
  /** Worker processes per service (`--workers`, `SHOP_WORKERS`). */
  readonly workers: Record<ServiceName, number>;
  /** `--fresh`: wipe the shop's state (data directory files, its databases, its broker queues) before starting. */
  readonly fresh: boolean;
}

/** Reads the shop's command line: `--fresh` and `--workers <service>=<count>[,...]`. Throws `ShopConfigError` for anything else. */
export function parseStartOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): StartOptions {
  const rest = argv.filter((arg) => arg !== '--fresh');
  return { workers: parseWorkers(rest, env), fresh: rest.length !== argv.length };
}
