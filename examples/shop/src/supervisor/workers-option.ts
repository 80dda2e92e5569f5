import { SERVICE_NAMES, type ServiceName } from '../service-names.js';
import { ShopConfigError } from '../shop-config.js';

/** Most worker processes of one service. */
export const MAX_WORKERS = 8;

/**
 * Reads worker counts from `--workers payments=3` (repeatable, or comma-separated:
 * `--workers payments=3,shipping=2`, also `--workers=payments=3`) and from `SHOP_WORKERS` in the
 * same `name=count,...` form; the command line wins. Every service not named gets one process.
 * Throws {@link ShopConfigError} for an unknown service, a count outside 1-8, or `gateway` (it owns the HTTP port).
 */
export function parseWorkers(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Record<ServiceName, number> {
  const counts = Object.fromEntries(SERVICE_NAMES.map((name) => [name, 1])) as Record<ServiceName, number>;
  const specs: { spec: string; from: string }[] = [];
  if (env.SHOP_WORKERS?.trim()) specs.push({ spec: env.SHOP_WORKERS.trim(), from: 'SHOP_WORKERS' });
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--workers') {
      const value = argv[++i];
      if (value === undefined) throw new ShopConfigError('--workers needs a value, e.g. --workers payments=3');
      specs.push({ spec: value, from: '--workers' });
    } else if (arg.startsWith('--workers=')) {
      specs.push({ spec: arg.slice('--workers='.length), from: '--workers' });
    } else {
      throw new ShopConfigError(`Unknown argument ${JSON.stringify(arg)}: the shop takes --fresh and --workers <service>=<count>[,...]`);
    }
  }
  for (const { spec, from } of specs) {
    for (const part of spec.split(',')) {
      const match = /^\s*([a-z]+)\s*=\s*(\d+)\s*$/.exec(part);
      if (!match) throw new ShopConfigError(`${from} ${JSON.stringify(part)}: write <service>=<count>, e.g. payments=3`);
      const [, name, count] = match as unknown as [string, string, string];
      if (!(SERVICE_NAMES as readonly string[]).includes(name)) {
        throw new ShopConfigError(`${from}: no service ${JSON.stringify(name)}; the services are ${SERVICE_NAMES.join(', ')}`);
      }
      if (name === 'gateway') throw new ShopConfigError(`${from}: the gateway runs as one process (it owns the HTTP port); scale the other services`);
      const value = Number(count);
      if (value < 1 || value > MAX_WORKERS) throw new ShopConfigError(`${from}: ${name}=${count}: give between 1 and ${MAX_WORKERS} processes`);
      counts[name as ServiceName] = value;
    }
  }
  return counts;
}
