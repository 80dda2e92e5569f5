import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { ErrorCodes, MailroomError, type System, type Transport } from '@mailroom/core';
import { mailroomFastify } from '@mailroom/http';
import { markRoutesOpen, operatorAuth } from '@mailroom/http/operator-auth';
import Fastify, { type FastifyInstance } from 'fastify';
import { ArchiveStore } from './archive-store.js';
import { AuditTrail } from './audit-trail.js';
import { Confirmations } from './confirmations.js';
import type { ConsoleContext } from './console-context.js';
import { ConsoleErrorCodes } from './errors.js';
import { GroupsCache } from './groups-cache.js';
import type { InstanceSource } from './instance-source.js';
import { RetryJobs } from './retry-jobs.js';
import { actionRoutes } from './routes/action-routes.js';
import { letterRoutes } from './routes/letter-routes.js';
import { systemRoutes } from './routes/system-routes.js';

/** Options of {@link createConsoleApp}. */
export interface ConsoleAppOptions {
  /** The transport whose dead letters and queues the console shows and acts on (the caller owns it and closes it). */
  transport: Transport;
  /** The system (`defineSystem`): contracts to validate edits with, and the choreography graph. Without it, edits are checked as JSON only and there is no graph. */
  system?: System;
  /** The operator token (e.g. `MAILROOM_CONSOLE_TOKEN`); undefined: one is generated, read it from `app.operatorAuth` and print the login link once. */
  token?: string;
  /** Where the audit log (`audit.jsonl`) and the archive (`archive.jsonl`) are kept. Created when missing. */
  dataDir: string;
  /** Where the built web UI is. Default: this package's `dist/ui`. */
  uiDir?: string;
  /** Origins besides the console's own that may send mutations (a UI dev server). */
  allowedOrigins?: readonly string[];
  /** How old a snapshot of the failure groups may be when served (grouping reads every dead letter). Default 2000 ms; the UI's Refresh asks for a fresh one. */
  groupsMaxAgeMs?: number;
  /** Endpoint instances from their heartbeats, shown alive or stale under *Endpoints*. */
  instances?: InstanceSource;
}

/** The console's state besides the Fastify app, for tests and embedding. */
export interface ConsoleApp {
  readonly app: FastifyInstance;
  readonly context: ConsoleContext;
}

/** Where the built UI is by default: `dist/ui` of this package (what `npm run build` writes). */
export function defaultUiDir(): string {
  return fileURLToPath(new URL('../dist/ui', import.meta.url));
}

/**
 * The console's Fastify app (not listening): the JSON API under `/api` and the web UI at `/`.
 * Closed by default (the `@mailroom/http/operator-auth` plugin): every route but the login routes
 * and the static UI files answers 401 without the operator token or a session; every mutation must
 * be same-origin JSON; each is written to the audit trail with who, when and what. Throws
 * `MAILROOM_ERR_CONSOLE_CONFIG` when the data directory cannot be created.
 */
export async function createConsoleApp(options: ConsoleAppOptions): Promise<ConsoleApp> {
  const dataDir = resolve(options.dataDir);
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (error) {
    throw new MailroomError(ConsoleErrorCodes.CONSOLE_CONFIG, `Cannot create the console's data directory ${dataDir}`, { cause: error });
  }
  const audit = new AuditTrail(join(dataDir, 'audit.jsonl'));
  const context: ConsoleContext = {
    transport: options.transport,
    system: options.system,
    archive: new ArchiveStore(join(dataDir, 'archive.jsonl')),
    audit,
    jobs: new RetryJobs(),
    confirmations: new Confirmations(),
    groups: new GroupsCache(options.transport.deadLetters, options.groupsMaxAgeMs ?? 2000),
    instances: options.instances,
  };
  const app = Fastify({ logger: false, bodyLimit: 2 * 1024 * 1024 });
  await app.register(mailroomFastify, {
    statusByCode: {
      [ErrorCodes.DEAD_LETTER_NOT_FOUND]: 404,
      [ErrorCodes.DEAD_LETTER_CURSOR_INVALID]: 400,
      [ErrorCodes.DEAD_LETTER_FILTER_INVALID]: 400,
      [ConsoleErrorCodes.CONSOLE_CONFIG]: 400,
      [ConsoleErrorCodes.CONSOLE_CONFIRMATION_REQUIRED]: 428,
      [ConsoleErrorCodes.CONSOLE_EDIT_INVALID]: 422,
      [ConsoleErrorCodes.CONSOLE_JOB_NOT_FOUND]: 404,
      [ConsoleErrorCodes.CONSOLE_ARCHIVE_NOT_FOUND]: 404,
    },
  });
  await app.register(operatorAuth, {
    ...(options.token !== undefined && { token: options.token }),
    cookieName: 'mailroom_console_session',
    logger: audit.logger(),
    ...(options.allowedOrigins && { allowedOrigins: options.allowedOrigins }),
  });
  // Group once at start, so the first page of groups is served from a snapshot.
  context.groups.get({}).catch(() => undefined);
  await letterRoutes(app, context);
  await actionRoutes(app, context);
  await systemRoutes(app, context);
  const uiDir = options.uiDir ?? defaultUiDir();
  await app.register(async (ui) => {
    markRoutesOpen(ui);
    if (existsSync(join(uiDir, 'index.html'))) {
      await ui.register(fastifyStatic, { root: uiDir, prefix: '/', index: 'index.html', cacheControl: false });
    } else {
      ui.get('/', async (_request, reply) =>
        reply.type('text/plain; charset=utf-8').send(`The console's web UI is not built (no ${join(uiDir, 'index.html')}). Build it with: npm run build\n`),
      );
    }
  });
  return { app, context };
}
