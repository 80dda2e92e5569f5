import { describe, expect, it } from 'vitest';
import { ShopConfigError } from '../src/shop-config.js';
import { parseWorkers } from '../src/supervisor/workers-option.js';

describe('parseWorkers', () => {
  it('gives every service one process unless told otherwise', () => {
    expect(parseWorkers([], {})).toEqual({ gateway: 1, orders: 1, payments: 1, inventory: 1, shipping: 1, notifications: 1 });
  });

  it('reads --workers (repeated, comma-separated, or with =) and SHOP_WORKERS; the command line wins', () => {
    const counts = parseWorkers(['--workers', 'payments=3,shipping=2', '--workers=inventory=2'], { SHOP_WORKERS: 'payments=5, orders=4' });
    expect(counts).toMatchObject({ payments: 3, shipping: 2, inventory: 2, orders: 4, gateway: 1, notifications: 1 });
  });

  it.each([
    [['--workers', 'billing=2'], /no service "billing"/],
    [['--workers', 'payments=0'], /between 1 and 8/],
    [['--workers', 'payments=9'], /between 1 and 8/],
    [['--workers', 'payments'], /write <service>=<count>/],
    [['--workers'], /needs a value/],
    [['--workers', 'gateway=2'], /gateway runs as one process/],
    [['--verbose'], /Unknown argument "--verbose"/],
  ])('refuses %j with a message saying what to write', (argv, message) => {
    expect(() => parseWorkers(argv, {})).toThrow(ShopConfigError);
    expect(() => parseWorkers(argv, {})).toThrow(message);
  });
});
