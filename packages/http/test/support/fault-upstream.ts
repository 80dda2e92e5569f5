import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the upstream behaves: healthy, slow, answering 503 to every second request, or always 503. */
export type UpstreamMode = 'ok' | 'slow' | 'flaky' | 'failing';

/** One request the upstream received, with the breaker state the test observed at that moment. */
export interface UpstreamHit {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  note: string | undefined;
}

/**
 * A real HTTP server injecting faults: `down()` closes the listener (connections refused) and
 * `up()` listens again on the same port; `mode` makes it slow, flaky (every second request 503)
 * or failing. Routes: `GET /items/:id`, `GET /echo` (returns the request headers), `POST /charges`
 * (deduplicated by `idempotency-key`, 422 for a non-positive amount).
 */
export class FaultUpstream {
  mode: UpstreamMode = 'ok';
  slowMs = 500;
  readonly hits: UpstreamHit[] = [];
  /** Charges by idempotency key, each stored once. */
  readonly charges = new Map<string, { orderId: string; amount: number }>();
  /** Called on each request; its return value is recorded with the hit (e.g. the client's breaker state). */
  observe: () => string | undefined = () => undefined;
  private server: Server;
  private port = 0;
  private counter = 0;

  constructor() {
    this.server = this.makeServer();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    if (this.server.listening) return;
    this.server = this.makeServer();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async down(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private makeServer(): Server {
    return createServer((request, response) => {
      void this.handle(request, response);
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const path = (request.url ?? '/').split('?')[0] as string;
    this.hits.push({ method: request.method ?? 'GET', path, headers: request.headers, note: this.observe() });
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (this.mode === 'slow') await new Promise((resolve) => setTimeout(resolve, this.slowMs));
    if (response.destroyed) return;
    this.counter += 1;
    if (this.mode === 'failing' || (this.mode === 'flaky' && this.counter % 2 === 1)) return send(503, { error: 'unavailable' });
    if (request.method === 'GET' && path === '/echo') return send(200, { headers: request.headers });
    if (request.method === 'GET' && path.startsWith('/items/')) return send(200, { id: path.slice('/items/'.length) });
    if (request.method === 'POST' && path === '/charges') {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { orderId: string; amount: number };
      if (!(body.amount > 0)) return send(422, { type: 'about:blank', title: 'Unprocessable Content', status: 422, detail: 'amount must be positive' });
      const key = String(request.headers['idempotency-key'] ?? body.orderId);
      if (!this.charges.has(key)) this.charges.set(key, body);
      return send(201, { chargeId: `ch-${key}`, orderId: body.orderId });
    }
    return send(404, { error: 'not found' });
  }

  async close(): Promise<void> {
    await this.down();
  }
}

/** Starts a {@link FaultUpstream} on a free port. */
export async function startUpstream(): Promise<FaultUpstream> {
  const upstream = new FaultUpstream();
  await upstream.up();
  return upstream;
}
