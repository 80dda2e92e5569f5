import type { Logger } from '@mailroom/core';
import { exponentialDelay } from '@mailroom/core/internal';
import type { PgListeningClient, PgNotification, PgTransportPool } from './pg-client.js';

const MAX_BACKOFF_MS = 5000;

/**
 * The transport's one listening connection: a client kept out of the pool that `LISTEN`s on the
 * transport's channel and calls `onWake(endpoint)` for every notification. When the connection
 * fails it is replaced, with a backoff (100 ms doubling to 5 s), and `onReconnect()` is called once
 * listening again, since notifications sent meanwhile are lost (consumers then claim at once; their
 * poll covers the gap in any case).
 */
export class WakeListener {
  private client: PgListeningClient | undefined;
  private closed = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly pool: PgTransportPool,
    private readonly channel: string,
    private readonly onWake: (endpoint: string) => void,
    private readonly onReconnect: () => void,
    private readonly log: Logger,
  ) {}

  /** Connects and listens; rejects when the first attempt fails (later failures reconnect by themselves). */
  start(): Promise<void> {
    this.connecting = this.listen();
    return this.connecting;
  }

  /** Whether the listening connection is up. */
  get listening(): boolean {
    return this.client !== undefined;
  }

  private async listen(): Promise<void> {
    const client = await this.pool.connect();
    const onError = (error: Error) => this.lost(client, error);
    client.on('error', onError);
    client.on('end', () => this.lost(client, new Error('the listening connection ended')));
    client.on('notification', (message: PgNotification) => {
      if (message.channel === this.channel && message.payload) this.onWake(message.payload);
    });
    try {
      await client.query(`LISTEN "${this.channel}"`);
    } catch (error) {
      client.removeAllListeners('notification');
      client.release(error instanceof Error ? error : true);
      throw error;
    }
    if (this.closed) {
      this.drop(client);
      return;
    }
    this.client = client;
    this.failures = 0;
  }

  private lost(client: PgListeningClient, error: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.drop(client, error);
    if (this.closed) return;
    this.log.warn({ err: error }, 'the LISTEN connection failed; reconnecting (consumers poll meanwhile)');
    this.reconnectLater();
  }

  private reconnectLater(): void {
    if (this.closed) return;
    const delay = exponentialDelay(this.failures + 1, 100, MAX_BACKOFF_MS);
    this.failures += 1;
    this.retryTimer = setTimeout(() => {
      this.connecting = this.listen().then(
        () => {
          if (!this.closed) this.onReconnect();
        },
        (error: unknown) => {
          this.log.warn({ err: error, failures: this.failures }, 'could not LISTEN again; retrying');
          this.reconnectLater();
        },
      );
    }, delay);
    this.retryTimer.unref();
  }

  private drop(client: PgListeningClient, error?: Error): void {
    client.removeAllListeners('notification');
    client.removeAllListeners('end');
    // Keep absorbing errors of the dead connection; the client is destroyed, not returned to the pool.
    client.on('error', () => undefined);
    try {
      client.release(error ?? true);
    } catch {
      // Already released.
    }
  }

  /** Stops listening and destroys the connection. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    if (client) this.drop(client);
  }
}
