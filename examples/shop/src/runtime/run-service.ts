import { createEndpoint, type Endpoint, type Logger, type Transport } from '@mailroom/core';
import type { HealthReporter } from '@mailroom/http';
import type { FastifyInstance } from 'fastify';
import { readShopConfig, type ShopConfig } from '../shop-config.js';
import type { ServiceName } from '../system.js';
import { FaultSwitch } from './fault-switch.js';
import { createLineLogger } from './line-logger.js';
import { startOpsServer } from './ops-server.js';
import { openServiceDatabase, type ServiceDatabase } from './service-database.js';
import { startShopTelemetry } from './shop-telemetry.js';
import { connectShopTransport } from './shop-transport.js';
import { type CannotStartMessage, EXIT_CANNOT_START, permanentStartupFailure } from './startup-failure.js';

/** What a service's setup receives: its settings, its own database and its endpoint (not started yet). */
export interface ServiceContext {
  readonly name: ServiceName;
  readonly config: ShopConfig;
  readonly log: Logger;
  readonly transport: Transport;
  readonly db: ServiceDatabase;
  readonly endpoint: Endpoint<unknown>;
  /** This process's number among the workers of the service, from 1. */
  readonly worker: number;
  readonly faults: FaultSwitch;
}

/** What a setup may hand back: more to start after the endpoint, and to stop before it. */
export interface ServiceHooks {
  /** Runs after the endpoint started (e.g. listen on an HTTP port); may resolve with the URL it serves. */
  afterStart?: () => Promise<string | undefined>;
  /** Runs first on shutdown (e.g. close the HTTP server). */
  beforeStop?: () => Promise<void>;
  /** More endpoints whose health decides the process's readiness (the gateway's operation tracker). */
  healthEndpoints?: readonly HealthReporter[];
}

/** A message a service process sends its supervisor when it is ready. */
export interface ReadyMessage {
  readonly type: 'ready';
  /** The URL the process serves, when it serves one (the gateway). */
  readonly url?: string;
  /** The URL of its operations port: `/metrics`, `/health/live`, `/health/ready`. */
  readonly opsUrl?: string;
}

/**
 * Ends a process that could not start: exit code 1 when a restart may help (the supervisor restarts
 * it), {@link EXIT_CANNOT_START} after telling the supervisor why when it cannot (wrong credentials,
 * a bad URL or setting), so the shop stops with that message instead of restarting forever.
 */
async function fail(log: Logger, error: unknown): Promise<never> {
  const permanent = permanentStartupFailure(error);
  if (permanent === undefined) {
    log.error({ err: error }, 'could not start');
    process.exit(1);
  }
  process.stderr.write(`${permanent}\n`);
  const send = process.send?.bind(process);
  if (send) await new Promise<void>((resolve) => send({ type: 'cannot-start', message: permanent } satisfies CannotStartMessage, () => resolve()));
  process.exit(EXIT_CANNOT_START);
}

/**
 * Runs one service process: reads the settings, connects the transport, opens the service's own
 * database, builds its endpoint (inbox + outbox through that database, the shop's retry policy),
 * lets `setup` register handlers, starts, tells the supervisor it is ready, and stops gracefully on
 * SIGTERM or SIGINT (in-flight handlers finish, unsettled messages go back to the queue).
 */
export async function runService(name: ServiceName, setup: (context: ServiceContext) => Promise<ServiceHooks | undefined>): Promise<void> {
  const bootLog = createLineLogger();
  let config: ShopConfig;
  try {
    config = readShopConfig();
  } catch (error) {
    return await fail(bootLog, error);
  }
  const worker = Number(process.env.SHOP_WORKER ?? '1');
  // The SDK first: Mailroom's meters are made when its endpoints start.
  const telemetry = startShopTelemetry(name, worker);
  const log = bootLog.child({ service: name, worker });
  const faults = new FaultSwitch(config.poisonFault);
  process.on('message', (message) => {
    if (faults.apply(message)) log.info({}, `poison fault switched ${faults.poison ? 'on' : 'off'}`);
  });

  let transport: Transport | undefined;
  let db: ServiceDatabase | undefined;
  let endpoint: Endpoint<unknown> | undefined;
  let hooks: ServiceHooks | undefined;
  let url: string | undefined;
  let ops: FastifyInstance | undefined;
  try {
    transport = await connectShopTransport(config, log, `shop-${name}-${worker}`);
    db = await openServiceDatabase(config, name, log);
    endpoint = createEndpoint<unknown>({
      name,
      transport,
      persistence: db.persistence,
      logger: log,
      stopTimeoutMs: 5000,
      recoverability: {
        immediateRetries: config.immediateRetries,
        delayedRetries: config.delayedRetries,
        initialDelayMs: config.retryDelayMs,
        factor: 4,
      },
    });
    hooks = await setup({ name, config, log, transport, db, endpoint, worker, faults });
    await endpoint.start();
    url = await hooks?.afterStart?.();
    ops = await startOpsServer(telemetry, [endpoint, ...(hooks?.healthEndpoints ?? [])], config.opsPort, config.opsHost);
    log.info({}, `${name} ready: ${db.location}`);
  } catch (error) {
    await endpoint?.stop().catch(() => undefined);
    await db?.close().catch(() => undefined);
    await transport?.close().catch(() => undefined);
    return await fail(log, error);
  }
  const address = ops?.server.address();
  const opsUrl = typeof address === 'object' && address !== null ? `http://127.0.0.1:${address.port}` : undefined;
  process.send?.({ type: 'ready', ...(url !== undefined && { url }), ...(opsUrl !== undefined && { opsUrl }) } satisfies ReadyMessage);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await hooks?.beforeStop?.();
      await endpoint?.stop();
      await db?.close();
      await transport?.close();
      await ops?.close();
      await telemetry.shutdown();
    } catch (error) {
      log.warn({ err: error }, 'error while stopping');
    }
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  // A supervisor that dies closes the IPC channel: stop rather than run on unsupervised.
  if (process.send) process.once('disconnect', () => void stop());
}
