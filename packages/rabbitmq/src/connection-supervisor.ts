import { ErrorCodes, errorMessage, isMailroomError, type Logger, MailroomError, redactUrl } from '@mailroom/core';
import { withTimeout } from '@mailroom/core/internal';
import { connect as amqpConnect } from 'amqplib';
import type { AmqpChannel, AmqpConfirmChannel, AmqpConnection, AmqpListener } from './amqp-types.js';
import { RabbitMqErrorCodes } from './errors.js';
import { batchFrameWrites } from './frame-batching.js';
import { NodeRotation } from './node-rotation.js';
import { type ResolvedOptions, withHeartbeat } from './options.js';

type State = 'ready' | 'down' | 'lost' | 'closed';

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * Follows one AMQP connection through losses and reconnects: knows whether it is ready, blocked
 * (RabbitMQ's resource alarm), reconnecting, lost for good or closed, counts connection
 * generations, and lets callers wait for readiness with a deadline. Opened from URLs it owns an
 * amqplib recovering connection (exponential backoff) that moves to the next node of a cluster after
 * every lost connection or failed attempt; given the user's connection it only listens.
 */
export class ConnectionSupervisor {
  /** Increases on every (re)connect; channels from an older generation are dead. */
  generation = 1;
  private state: State = 'ready';
  private connectedOnce = true;
  private blocked = false;
  private downSince = 0;
  private lastError = '';
  private waiters = new Set<Waiter>();
  private readonly detach: () => void;

  private constructor(
    readonly connection: AmqpConnection,
    private readonly owned: boolean,
    private readonly where: string,
    private readonly log: Logger,
    private readonly nodes?: NodeRotation,
  ) {
    const recovering = typeof (connection as { waitForConnect?: unknown }).waitForConnect === 'function';
    const listeners: [string, AmqpListener][] = [
      ['error', (error: unknown) => this.log.warn({ error: errorMessage(error) }, 'RabbitMQ connection error')],
      ['blocked', (reason: unknown) => this.setBlocked(true, String(reason))],
      ['unblocked', () => this.setBlocked(false, '')],
    ];
    if (recovering) {
      listeners.push(
        [
          'disconnect',
          (error: unknown) => {
            this.markDown(error);
            this.nodes?.next();
          },
        ],
        [
          'connect',
          (model: unknown) => {
            if (owned) batchFrameWrites(model);
            this.markUp();
          },
        ],
        [
          'connect-failed',
          (error: unknown) => {
            this.noteFailure(error);
            this.nodes?.next();
          },
        ],
        ['reconnect-failed', (error: unknown) => this.markLost(error)],
      );
    } else {
      listeners.push(['close', (error: unknown) => this.markLost(error)]);
    }
    for (const [event, listener] of listeners) connection.on(event, listener);
    this.detach = () => {
      for (const [event, listener] of listeners) connection.removeListener(event, listener);
    };
  }

  /** Listens to the user's own connection; it is never closed by the transport. */
  static adopt(connection: AmqpConnection, log: Logger): ConnectionSupervisor {
    return new ConnectionSupervisor(connection, false, 'the given amqplib connection', log);
  }

  /**
   * Opens a reconnecting connection to the first node of `options.urls` that answers and waits for
   * it. Throws `MAILROOM_ERR_RABBITMQ_ACCESS_REFUSED` at once for bad credentials or vhost, and
   * `MAILROOM_ERR_TRANSPORT_UNAVAILABLE` when no node answers within `connectTimeoutMs`.
   */
  static async open(options: ResolvedOptions): Promise<ConnectionSupervisor> {
    const urls = options.urls as readonly string[];
    const nodes = new NodeRotation(urls.map((url) => withHeartbeat(url, options.heartbeatSeconds)));
    // Messages name the nodes as the user wrote them (without the heartbeat the transport adds).
    const where = urls.map(redactUrl).join(', ');
    const socketOptions = {
      // Nagle's algorithm off (amqplib leaves it on): with it, a publish or an ack written while an
      // earlier segment awaits its TCP ACK waits for the peer's delayed ACK, about 40 ms on Linux.
      noDelay: true,
      ...options.socketOptions,
      clientProperties: { connection_name: options.connectionName, ...(options.socketOptions.clientProperties as object | undefined) },
      recovery: {
        initialDelay: options.reconnectInitialDelayMs,
        maxDelay: options.reconnectMaxDelayMs,
        factor: 2,
        jitter: 0.2,
        waitForConnect: false,
      },
    };
    let connection: AmqpConnection;
    try {
      // The address object, not a string: amqplib reads it again at every attempt, and the rotation changes it.
      connection = (await amqpConnect(nodes.target as never, socketOptions as never)) as unknown as AmqpConnection;
    } catch (error) {
      throw new MailroomError(ErrorCodes.TRANSPORT_URL, `Cannot connect to ${where}: ${scrub(errorMessage(error), urls)}`);
    }
    const supervisor = new ConnectionSupervisor(connection, true, where, options.logger, nodes);
    supervisor.state = 'down';
    supervisor.connectedOnce = false;
    supervisor.downSince = Date.now();
    try {
      await supervisor.firstConnect(options.connectTimeoutMs, urls);
    } catch (error) {
      await supervisor.close();
      throw error;
    }
    return supervisor;
  }

  private firstConnect(timeoutMs: number, urls: readonly string[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new MailroomError(
            ErrorCodes.TRANSPORT_UNAVAILABLE,
            `RabbitMQ at ${this.where} did not accept a connection within ${timeoutMs} ms${this.lastError ? ` (last error: ${scrub(this.lastError, urls)})` : ''}; is it running? Start it with: rabbitmq-server -detached`,
          ),
        );
      }, timeoutMs);
      const onConnect = () => {
        cleanup();
        resolve();
      };
      const onFailed = (error: unknown) => {
        const tls = tlsFailure(error);
        const refused = refusal(errorMessage(error));
        if (!tls && !refused) return;
        cleanup();
        reject(
          tls
            ? new MailroomError(RabbitMqErrorCodes.TLS, `The TLS handshake with RabbitMQ at ${this.where} failed: ${tls}`, { cause: error })
            : new MailroomError(RabbitMqErrorCodes.ACCESS_REFUSED, `RabbitMQ at ${this.where} refused the connection: ${refused}`),
        );
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.connection.removeListener('connect', onConnect);
        this.connection.removeListener('connect-failed', onFailed);
      };
      this.connection.on('connect', onConnect);
      this.connection.on('connect-failed', onFailed);
    });
  }

  /** True while channels can be opened and publishes are read by the broker. */
  get ready(): boolean {
    return this.state === 'ready' && !this.blocked;
  }

  /** True while RabbitMQ blocks the connection (a memory or disk alarm): it reads nothing this process publishes. */
  get isBlocked(): boolean {
    return this.blocked;
  }

  /** False once closed or lost for good: waiting for it is pointless. */
  get usable(): boolean {
    return this.state !== 'closed' && this.state !== 'lost';
  }

  /**
   * Resolves once the connection is ready (connected and not blocked). Rejects with
   * `MAILROOM_ERR_TRANSPORT_UNAVAILABLE` at `deadline` (epoch ms; default: never) or at once when
   * the connection is lost for good, and with `MAILROOM_ERR_TRANSPORT_CLOSED` once closed.
   */
  waitReady(deadline = Number.POSITIVE_INFINITY): Promise<void> {
    if (this.state === 'closed') return Promise.reject(this.closedError());
    if (this.state === 'lost') return Promise.reject(this.lostError());
    if (this.ready) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        resolve: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          reject(error);
        },
      };
      if (Number.isFinite(deadline)) {
        timer = setTimeout(() => waiter.reject(this.unavailableError()), Math.max(0, deadline - Date.now()));
        timer.unref();
      }
      this.waiters.add(waiter);
    });
  }

  /** Opens a channel once ready; rejects like {@link waitReady} at `deadline`. */
  async createChannel(deadline?: number): Promise<AmqpChannel> {
    return this.openChannel(() => this.connection.createChannel(), deadline);
  }

  /** Opens a confirm channel once ready; rejects like {@link waitReady} at `deadline`. */
  async createConfirmChannel(deadline?: number): Promise<AmqpConfirmChannel> {
    return this.openChannel(() => this.connection.createConfirmChannel(), deadline);
  }

  private async openChannel<C extends AmqpChannel>(create: () => Promise<C>, deadline = Number.POSITIVE_INFINITY): Promise<C> {
    await this.waitReady(deadline);
    const opening = create().then((channel) => {
      channel.on('error', (error: unknown) => this.log.debug({ error: errorMessage(error) }, 'RabbitMQ channel error'));
      return channel;
    });
    try {
      return await withTimeout(opening, deadline - Date.now(), () => this.unavailableError());
    } catch (error) {
      void opening.then((late) => late.close().catch(() => undefined)).catch(() => undefined);
      if (this.state === 'closed') throw this.closedError();
      if (isMailroomError(error)) throw error;
      throw new MailroomError(ErrorCodes.TRANSPORT_UNAVAILABLE, `Cannot open a channel to RabbitMQ at ${this.where}: ${errorMessage(error)}`, { cause: error });
    }
  }

  /** An `MAILROOM_ERR_TRANSPORT_UNAVAILABLE` error describing the current outage. */
  unavailableError(): MailroomError {
    if (this.state === 'lost') return this.lostError();
    if (this.state === 'closed') return this.closedError();
    const why = this.blocked
      ? 'RabbitMQ blocked the connection (a memory or disk alarm)'
      : this.state === 'down'
        ? `the connection is down since ${Math.round((Date.now() - this.downSince) / 100) / 10} s${this.lastError ? ` (${this.lastError})` : ''}`
        : 'the broker did not answer';
    return new MailroomError(ErrorCodes.TRANSPORT_UNAVAILABLE, `RabbitMQ at ${this.where} is unavailable: ${why}`);
  }

  /** Closes the connection when the transport owns it; rejects every waiter. Idempotent; never hangs. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.detach();
    if (this.owned) this.connection.on('error', () => undefined); // a late error of our own connection must not crash the process
    for (const waiter of [...this.waiters]) waiter.reject(this.closedError());
    if (this.owned) await withTimeout(this.connection.close(), 2000, () => new Error('close timed out')).catch(() => undefined);
  }

  private markDown(error: unknown): void {
    if (this.state !== 'ready') return;
    this.state = 'down';
    this.blocked = false;
    this.downSince = Date.now();
    this.lastError = errorMessage(error);
    this.log.warn(
      { event: 'connection-lost', error: this.lastError, ...(this.nodes && { node: this.nodes.current }) },
      'RabbitMQ connection lost; reconnecting',
    );
  }

  private markUp(): void {
    if (this.state === 'closed' || this.state === 'lost') return;
    const wasDown = this.state === 'down';
    const downtimeMs = Date.now() - this.downSince;
    this.state = 'ready';
    this.generation += 1;
    const reconnected = this.connectedOnce;
    this.connectedOnce = true;
    if (wasDown && reconnected) {
      this.log.info(
        { event: 'reconnected', downtimeMs, ...(this.nodes && { node: this.nodes.current }) },
        `RabbitMQ connection restored after ${downtimeMs} ms`,
      );
    }
    this.wake();
  }

  private noteFailure(error: unknown): void {
    this.lastError = errorMessage(error);
    this.log.debug({ error: this.lastError }, 'RabbitMQ reconnect attempt failed');
  }

  private markLost(error: unknown): void {
    if (this.state === 'closed') return;
    this.state = 'lost';
    this.lastError = errorMessage(error ?? 'closed');
    this.log.error({ event: 'connection-lost-for-good', error: this.lastError }, 'RabbitMQ connection closed and will not reconnect');
    for (const waiter of [...this.waiters]) waiter.reject(this.lostError());
  }

  private setBlocked(blocked: boolean, reason: string): void {
    this.blocked = blocked;
    if (blocked) this.log.warn({ event: 'blocked', reason }, 'RabbitMQ blocked the connection; publishes wait');
    else {
      this.log.info({ event: 'unblocked' }, 'RabbitMQ unblocked the connection');
      this.wake();
    }
  }

  private wake(): void {
    if (!this.ready) return;
    for (const waiter of [...this.waiters]) waiter.resolve();
  }

  private closedError(): MailroomError {
    return new MailroomError(ErrorCodes.TRANSPORT_CLOSED, 'The RabbitMQ transport is closed');
  }

  private lostError(): MailroomError {
    return new MailroomError(
      ErrorCodes.TRANSPORT_UNAVAILABLE,
      `The connection to RabbitMQ (${this.where}) closed${this.lastError ? ` (${this.lastError})` : ''} and cannot reconnect: pass a url, or a connection made with amqplib.connect(url, { recovery: true })`,
    );
  }
}

/** Why RabbitMQ refused a connection, or undefined when the failure is not a refusal (e.g. the broker is down). */
function refusal(message: string): string | undefined {
  if (/ACCESS[-_]REFUSED/.test(message)) return 'wrong user name or password (ACCESS_REFUSED); fix the credentials in the URL';
  if (/Expected ConnectionOpenOk; got <ConnectionClose|NOT[-_]ALLOWED/.test(message)) {
    return 'the vhost does not exist or the user may not use it (NOT_ALLOWED); fix the vhost in the URL path or the user permissions';
  }
  return undefined;
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|ERR_SSL/;

/** What went wrong in a TLS handshake, with how to fix it, or undefined for other failures. */
function tlsFailure(error: unknown): string | undefined {
  const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : '';
  if (!TLS_CODES.test(code)) return undefined;
  const fix = /WRONG_VERSION|UNKNOWN_PROTOCOL/.test(code)
    ? 'this port does not speak TLS; use the broker TLS port (5671 by default), or amqp:// for the plain one'
    : /ALTNAME|HOST/.test(code)
      ? 'the certificate does not name this host; connect with the host name it was issued for'
      : /EXPIRED|NOT_YET_VALID/.test(code)
        ? 'the certificate is not valid now'
        : 'the broker certificate is not trusted; give its CA in socketOptions.ca';
  return `${errorMessage(error)} (${code}): ${fix}`;
}

/** Removes the URLs and their passwords from a driver message, in case a driver ever echoes one. */
function scrub(message: string, urls: readonly string[]): string {
  let text = message;
  for (const url of urls) {
    text = text.split(url).join(redactUrl(url));
    try {
      const password = decodeURIComponent(new URL(url).password);
      if (password.length > 0) text = text.split(password).join('***');
    } catch {
      // not a URL: nothing else to remove
    }
  }
  return text;
}
