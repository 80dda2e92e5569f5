// `npm start`: the shop under its supervisor. Every service runs as its own OS process with its own
// database; the supervisor prefixes their logs, restarts them when they crash, serves the gateway's
// stop/start requests on a loopback control channel, and prints the URL of the web UI.
//
//   node dist/start.js [--fresh] [--workers payments=3,shipping=2]
//   MAILROOM_TRANSPORT=amqp://guest:guest@localhost | nats://localhost:4222   (default: SQLite broker file)
//   SHOP_PG_URL=postgres://postgres@127.0.0.1:5432                           (default: a SQLite file per service)
//   SHOP_ADMIN_TOKEN=...   the operator token (default: generated, its login link printed once);
//                          the Mailroom console the supervisor starts uses the same token
//   SHOP_CONSOLE_PORT=4000 where the console listens, on 127.0.0.1 (default: any free port)
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage, isMailroomError } from '@mailroom/core';
import { type OperatorToken, operatorLoginUrl, resolveOperatorToken } from '@mailroom/http/operator-auth';
import { createLineLogger } from './runtime/line-logger.js';
import { ensurePgDatabase, pgDatabaseName } from './runtime/pg-databases.js';
import { permanentStartupFailure } from './runtime/startup-failure.js';
import { SERVICE_NAMES, type ServiceName } from './service-names.js';
import { describeTransport, readShopConfig, type ShopConfig, ShopConfigError } from './shop-config.js';
import { startControlServer } from './supervisor/control-server.js';
import { wipeShopState } from './supervisor/fresh-state.js';
import { LogPrefixer, useColor } from './supervisor/log-prefixer.js';
import { MetricsTargets } from './supervisor/metrics-targets.js';
import { probePort } from './supervisor/ports.js';
import { startShopConsole } from './supervisor/shop-console.js';
import { parseStartOptions } from './supervisor/start-options.js';
import { Supervisor } from './supervisor/supervisor.js';

const extension = extname(fileURLToPath(import.meta.url));
const scriptOf = (service: ServiceName) => fileURLToPath(new URL(`./services/${service}${extension}`, import.meta.url));
const STARTUP_TIMEOUT_MS = 90_000;

function exitWith(message: string, code = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

async function prepareDatabases(config: ShopConfig): Promise<string> {
  if (config.pgUrl === undefined) return `a SQLite file per service in ${config.dataDir}`;
  for (const service of SERVICE_NAMES) {
    try {
      await ensurePgDatabase(config.pgUrl, pgDatabaseName(config, service));
    } catch (error) {
      const permanent = permanentStartupFailure(error);
      exitWith(
        permanent !== undefined
          ? `Cannot prepare the PostgreSQL database of ${service}: ${permanent}`
          : `Cannot prepare the PostgreSQL database of ${service} on SHOP_PG_URL: ${errorMessage(error)}. Is PostgreSQL running there?`,
      );
    }
  }
  return `a PostgreSQL database per service (${pgDatabaseName(config, '*')})`;
}

async function main(): Promise<void> {
  let config: ShopConfig;
  let workers: Record<ServiceName, number>;
  let fresh: boolean;
  let admin: OperatorToken;
  try {
    config = readShopConfig();
    ({ workers, fresh } = parseStartOptions(process.argv.slice(2)));
    admin = resolveOperatorToken(process.env.SHOP_ADMIN_TOKEN, 'SHOP_ADMIN_TOKEN');
  } catch (error) {
    if (error instanceof ShopConfigError || isMailroomError(error)) exitWith(error.message, 2);
    throw error;
  }
  const width = Math.max(10, ...SERVICE_NAMES.map((name) => name.length + (workers[name] > 1 ? 2 : 0)));
  const logs = new LogPrefixer(width, useColor());
  const say = (text: string) => logs.line('supervisor', text);

  if (config.port !== 0) {
    await probePort(config.port, config.host).catch((error: NodeJS.ErrnoException) =>
      exitWith(`Cannot listen on ${config.host}:${config.port} (${error.code ?? error.message}): set another port, e.g. PORT=3001 npm start`),
    );
  }
  if (fresh) {
    try {
      for (const line of await wipeShopState(config, createLineLogger().child({ service: 'supervisor' }))) say(`--fresh: wiped ${line}`);
    } catch (error) {
      exitWith(`--fresh could not wipe the shop's state: ${permanentStartupFailure(error) ?? errorMessage(error)}`);
    }
  }
  const databases = await prepareDatabases(config);
  const inventoryPort = await probePort(Number(process.env.SHOP_INVENTORY_PORT ?? 0), '127.0.0.1');
  const scaled = SERVICE_NAMES.filter((name) => workers[name] > 1).map((name) => `${name} x${workers[name]}`);
  say(`Mailroom shop: ${SERVICE_NAMES.length} services${scaled.length > 0 ? ` (${scaled.join(', ')})` : ''}`);
  say(`transport: ${describeTransport(config)}`);
  say(`databases: ${databases}`);
  if (!fresh) {
    say(
      `state: kept across runs and modes in ${config.dataDir}${config.pgUrl !== undefined ? ` and the PostgreSQL databases ${pgDatabaseName(config, '*')}` : ''} (stock, orders, e-mails); npm start -- --fresh starts from scratch`,
    );
  }

  const metricsTargets = new MetricsTargets(join(config.dataDir, 'prometheus-targets.json'));
  say(`metrics: every process serves /metrics; Prometheus file_sd targets in ${metricsTargets.path}`);
  let mailroomConsole: Awaited<ReturnType<typeof startShopConsole>> | undefined;
  let gatewayUrl: string | undefined;
  let control: Awaited<ReturnType<typeof startControlServer>> | undefined;
  const supervisor: Supervisor = new Supervisor({
    scriptOf,
    execArgv: process.execArgv,
    workers,
    logs,
    restartDelayMs: config.restartDelayMs,
    faults: { poison: config.poisonFault },
    envOf: (service, worker) => ({
      ...process.env,
      SHOP_DATA_DIR: config.dataDir,
      SHOP_SERVICE: service,
      SHOP_WORKER: String(worker),
      ...(service === 'inventory' && { SHOP_INVENTORY_PORT: String(inventoryPort) }),
      ...(service === 'gateway' && {
        SHOP_ADMIN_TOKEN: admin.token,
        SHOP_INVENTORY_URL: `http://127.0.0.1:${inventoryPort}`,
        SHOP_CONTROL_URL: control?.url,
        SHOP_CONTROL_TOKEN: control?.token,
        SHOP_CONSOLE_URL: mailroomConsole?.console.url,
      }),
    }),
    onGatewayUrl: (url) => {
      gatewayUrl = url;
    },
    // Wrong credentials or a bad URL: restarting cannot help, so the shop stops and says what to fix.
    onCannotStart: (label, message) => void shutdown(`${label} cannot start`, 1, message),
    onOpsUrl: (service, worker, url) => metricsTargets.set(service, worker, url),
  });
  control = await startControlServer(supervisor);

  let shuttingDown = false;
  async function shutdown(signal: string, code = 0, message?: string): Promise<void> {
    if (shuttingDown) return;
    shuttingDown = true;
    say(`${signal}: stopping every service`);
    await supervisor.stop();
    await control?.close();
    await mailroomConsole?.close().catch(() => undefined);
    say('stopped');
    if (message !== undefined) process.stderr.write(`${message}\n`);
    process.exit(code);
  }
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  const within = (work: Promise<void>, what: string) =>
    Promise.race([work.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), STARTUP_TIMEOUT_MS).unref())]).then(
      (ok) => ok || say(`${what} not ready after ${STARTUP_TIMEOUT_MS / 1000} s; still trying (see the logs above)`),
    );
  await within(supervisor.start(SERVICE_NAMES.filter((name) => name !== 'gateway')), 'some services are');
  if (shuttingDown) return;
  // After the services (a transport that cannot work is reported by them), before the gateway (which links to it).
  try {
    mailroomConsole = await startShopConsole(config, admin.token, createLineLogger().child({ service: 'console' }));
    say(`console: ${mailroomConsole.console.url} (dead letters, retries, endpoints, the choreography graph)`);
  } catch (error) {
    return shutdown('the Mailroom console cannot start', 1, `Cannot start the Mailroom console: ${permanentStartupFailure(error) ?? errorMessage(error)}`);
  }
  await within(supervisor.start(['gateway']), 'the gateway is');
  if (shuttingDown) return;
  say('');
  const url = gatewayUrl ?? `http://localhost:${config.port}`;
  say(`The shop is ready: ${url}   (Ctrl-C stops it)`);
  say(
    admin.generated
      ? `Operator login (services, dead letters, faults), valid until the shop stops: ${operatorLoginUrl(url, admin.token)}`
      : `Operator login: the token in SHOP_ADMIN_TOKEN, at ${url} (or ${url}/login?token=...)`,
  );
  if (mailroomConsole) {
    say(
      admin.generated
        ? `Mailroom console login (failed messages, endpoints, graph): ${mailroomConsole.console.loginUrl}`
        : `Mailroom console: ${mailroomConsole.console.url} (log in with the token in SHOP_ADMIN_TOKEN)`,
    );
  }
  say('');
}

await main();
