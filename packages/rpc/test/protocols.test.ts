// One Mailroom RPC server, every client: a @grpc/grpc-js client over the real gRPC wire protocol
// (HTTP/2), Connect's Node transports for gRPC, gRPC-Web and Connect over HTTP/2 and HTTP/1.1, and
// plain fetch speaking the Connect protocol's JSON over HTTP/1.1, all on the same port.
import { fileURLToPath } from 'node:url';
import { createClient } from '@connectrpc/connect';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { withCorrelation } from '@mailroom/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRpcTransport, RpcErrorCodes, type RpcProtocol } from '../src/index.js';
import { StockService } from './gen/mailroom/rpc/testing/v1/stock_pb.js';
import { type FaultStockServer, startStockServer } from './support/fault-stock-server.js';

const PROTO_DIR = fileURLToPath(new URL('./proto', import.meta.url));

interface GrpcStockClient extends grpc.Client {
  getStock(
    request: { sku: string },
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<Record<string, unknown>>,
  ): grpc.ClientUnaryCall;
  reserve(request: { sku: string; quantity: number }, metadata: grpc.Metadata, callback: grpc.requestCallback<Record<string, unknown>>): grpc.ClientUnaryCall;
}

/** A grpc-js client for StockService, from the .proto file (no Connect code involved). */
function grpcJsClient(address: string): GrpcStockClient {
  const definition = protoLoader.loadSync('mailroom/rpc/testing/v1/stock.proto', { includeDirs: [PROTO_DIR], keepCase: false });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    mailroom: { rpc: { testing: { v1: { StockService: new (address: string, credentials: grpc.ChannelCredentials) => GrpcStockClient } } } };
  };
  return new loaded.mailroom.rpc.testing.v1.StockService(address, grpc.credentials.createInsecure());
}

interface GrpcAnswer {
  error: grpc.ServiceError | null;
  value: Record<string, unknown> | undefined;
  headers: grpc.Metadata | undefined;
}

function grpcGetStock(client: GrpcStockClient, sku: string, metadata = new grpc.Metadata(), options: grpc.CallOptions = {}): Promise<GrpcAnswer> {
  return new Promise((resolve) => {
    let headers: grpc.Metadata | undefined;
    const call = client.getStock({ sku }, metadata, options, (error, value) => resolve({ error, value, headers }));
    call.on('metadata', (received) => {
      headers = received;
    });
  });
}

let server: FaultStockServer;
let client: GrpcStockClient;

beforeAll(async () => {
  server = await startStockServer();
  client = grpcJsClient(server.url.replace('http://', ''));
});

afterAll(async () => {
  client?.close();
  await server?.down();
});

describe('a @grpc/grpc-js client against the Mailroom server (gRPC over HTTP/2)', () => {
  it('calls a unary method and gets the typed answer; the metadata correlation id is the handler’s current correlation and comes back in the headers', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('x-correlation-id', 'grpc-js-order-1');
    metadata.set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    const { error, value, headers } = await grpcGetStock(client, 'mug', metadata);
    expect(error).toBeNull();
    expect(value).toMatchObject({ sku: 'mug', stock: 10, correlationId: 'grpc-js-order-1' });
    expect(value?.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(headers?.get('x-correlation-id')).toEqual(['grpc-js-order-1']);
  });

  it('gets the status code and message of a ConnectError the handler threw', async () => {
    const { error } = await grpcGetStock(client, 'unicorn');
    expect(error?.code).toBe(grpc.status.NOT_FOUND);
    expect(error?.details).toBe('no product "unicorn"');
  });

  it('gets INTERNAL, without the internal message, when the handler crashed', async () => {
    server.mode = 'crash';
    try {
      const { error, headers } = await grpcGetStock(client, 'mug');
      expect(error?.code).toBe(grpc.status.INTERNAL);
      expect(error?.details).toContain(RpcErrorCodes.RPC_INTERNAL);
      expect(error?.details).not.toContain('hunter2');
      expect(error?.details).toContain(String(headers?.get('x-correlation-id')[0] ?? 'no correlation header'));
    } finally {
      server.mode = 'ok';
    }
  });

  it('sends its deadline, which the handler sees, and gets DEADLINE_EXCEEDED when it passes', async () => {
    server.mode = 'slow';
    try {
      const { error } = await grpcGetStock(client, 'mug', new grpc.Metadata(), { deadline: Date.now() + 300 });
      expect(error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
      const call = server.callsOf('GetStock').at(-1);
      expect(call?.timeoutMs).toBeGreaterThan(0);
      expect(call?.timeoutMs).toBeLessThanOrEqual(300);
    } finally {
      server.mode = 'ok';
    }
  });
});

describe('Mailroom transports over every protocol and HTTP version, on the same port', () => {
  const cases: { protocol: RpcProtocol; httpVersion: '2' | '1.1' }[] = [
    { protocol: 'grpc', httpVersion: '2' },
    { protocol: 'grpc-web', httpVersion: '2' },
    { protocol: 'grpc-web', httpVersion: '1.1' },
    { protocol: 'connect', httpVersion: '2' },
    { protocol: 'connect', httpVersion: '1.1' },
  ];
  for (const { protocol, httpVersion } of cases) {
    it(`${protocol} over HTTP/${httpVersion}: answers, carries the correlation, maps NotFound`, async () => {
      const transport = createRpcTransport({ name: 'stock', baseUrl: server.url, protocol, httpVersion, retry: false });
      try {
        const stock = createClient(StockService, transport);
        const answer = await withCorrelation({ correlationId: `corr-${protocol}-${httpVersion}`, traceparent: undefined }, () =>
          stock.getStock({ sku: 'tee' }),
        );
        expect(answer).toMatchObject({ sku: 'tee', stock: 5, correlationId: `corr-${protocol}-${httpVersion}` });
        await expect(stock.getStock({ sku: 'unicorn' })).rejects.toMatchObject({ code: RpcErrorCodes.RPC_STATUS, rpcCode: 5, transient: false });
      } finally {
        transport.close();
      }
    });
  }

  it('speaks the Connect protocol to plain fetch over HTTP/1.1 (JSON, what curl sends)', async () => {
    const response = await fetch(`${server.url}/mailroom.rpc.testing.v1.StockService/GetStock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-correlation-id': 'curl-1' },
      body: JSON.stringify({ sku: 'mug' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-correlation-id')).toBe('curl-1');
    expect(await response.json()).toMatchObject({ sku: 'mug', stock: 10, correlationId: 'curl-1' });
    const missing = await fetch(`${server.url}/mailroom.rpc.testing.v1.StockService/GetStock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'unicorn' }),
    });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ code: 'not_found', message: 'no product "unicorn"' });
  });
});
