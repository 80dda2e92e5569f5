import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Code, ConnectError, type HandlerContext } from '@connectrpc/connect';
import { currentCorrelation } from '@mailroom/http';
import type { FastifyInstance } from 'fastify';
import { createRpcServer } from '../../src/index.js';
import { StockService } from '../gen/mailroom/rpc/testing/v1/stock_pb.js';

/** How the server answers: normally, slowly (`slowMs`), by dropping the connection mid-call, or by crashing (a plain `Error`). */
export type StockServerMode = 'ok' | 'slow' | 'drop' | 'crash';

/** One call the server received. */
export interface StockCall {
  readonly method: string;
  readonly sku: string;
  /** The correlation id current in the handler. */
  readonly correlationId: string | undefined;
  readonly traceparent: string | undefined;
  /** The deadline the client sent (`grpc-timeout` / `connect-timeout-ms`), if any. */
  readonly timeoutMs: number | undefined;
  readonly idempotencyKey: string | null;
  /** Whether the call was cancelled (client gone or deadline) before the handler finished. */
  cancelled: boolean;
}

/**
 * A real `StockService` server (createRpcServer: gRPC, gRPC-Web and Connect over HTTP/1.1 and
 * HTTP/2 on one port) that injects faults: `failNext` codes answered one per call, `mode` slow /
 * drop / crash, `down()` closes it (connections refused) and `up()` serves again on the same port.
 * `Reserve` is deduplicated by its `idempotency-key` header; unknown SKUs answer `NotFound`.
 */
export class FaultStockServer {
  mode: StockServerMode = 'ok';
  slowMs = 1000;
  /** Codes to answer the next calls with, one per call, before serving normally again. */
  readonly failNext: Code[] = [];
  /** When set, only calls for this SKU take their answer from {@link failNext} (a late call of an earlier step cannot). */
  failOnlySku: string | undefined;
  readonly calls: StockCall[] = [];
  readonly stock = new Map<string, number>([
    ['mug', 10],
    ['tee', 5],
  ]);
  /** Reservations by idempotency key, each applied once. */
  readonly reservations = new Map<string, { sku: string; quantity: number }>();
  private app: FastifyInstance | undefined;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Calls of one method so far. */
  callsOf(method: string): StockCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  async up(): Promise<void> {
    if (this.app) return;
    const app = await createRpcServer({
      routes: (router) =>
        router.service(StockService, {
          getStock: async (request, context) => {
            await this.fault('GetStock', request.sku, context);
            const correlation = currentCorrelation();
            return {
              sku: request.sku,
              stock: this.stockOf(request.sku),
              correlationId: correlation?.correlationId ?? '',
              traceparent: correlation?.traceparent ?? '',
            };
          },
          setStock: async (request, context) => {
            await this.fault('SetStock', request.sku, context);
            this.stockOf(request.sku);
            this.stock.set(request.sku, request.stock);
            return { sku: request.sku, stock: request.stock };
          },
          reserve: async (request, context) => {
            await this.fault('Reserve', request.sku, context);
            const available = this.stockOf(request.sku);
            const key = context.requestHeader.get('idempotency-key');
            if (key !== null && this.reservations.has(key)) return { sku: request.sku, remaining: available };
            if (available < request.quantity) throw new ConnectError(`only ${available} ${request.sku} left`, Code.FailedPrecondition);
            this.stock.set(request.sku, available - request.quantity);
            if (key !== null) this.reservations.set(key, { sku: request.sku, quantity: request.quantity });
            return { sku: request.sku, remaining: available - request.quantity };
          },
        }),
    });
    app.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await app.listen({ host: '127.0.0.1', port: this.port });
    this.port = (app.server.address() as AddressInfo).port;
    this.app = app;
  }

  /** Closes the server: calls in flight finish, every later connection is refused until {@link up}. */
  async down(): Promise<void> {
    const app = this.app;
    this.app = undefined;
    await app?.close();
  }

  private stockOf(sku: string): number {
    const stock = this.stock.get(sku);
    if (stock === undefined) throw new ConnectError(`no product ${JSON.stringify(sku)}`, Code.NotFound);
    return stock;
  }

  private async fault(method: string, sku: string, context: HandlerContext): Promise<void> {
    const correlation = currentCorrelation();
    const call: StockCall = {
      method,
      sku,
      correlationId: correlation?.correlationId,
      traceparent: correlation?.traceparent,
      timeoutMs: context.timeoutMs(),
      idempotencyKey: context.requestHeader.get('idempotency-key'),
      cancelled: false,
    };
    this.calls.push(call);
    context.signal.addEventListener('abort', () => {
      call.cancelled = true;
    });
    const code = this.failOnlySku === undefined || this.failOnlySku === sku ? this.failNext.shift() : undefined;
    if (code !== undefined) throw new ConnectError(`injected ${Code[code]}`, code);
    if (this.mode === 'crash') throw new Error('database password is hunter2');
    if (this.mode === 'slow') await sleep(this.slowMs, undefined, { signal: context.signal }).catch(() => undefined);
    if (this.mode === 'drop') {
      for (const socket of this.sockets) socket.destroy();
      await sleep(50);
    }
  }
}

/** Starts a {@link FaultStockServer}. */
export async function startStockServer(): Promise<FaultStockServer> {
  const server = new FaultStockServer();
  await server.up();
  return server;
}
