/**
 * `@mailroom/rpc`: typed RPC for the synchronous path, on Connect. Servers in Fastify speaking
 * gRPC, gRPC-Web and Connect (HTTP/2 and HTTP/1.1 on one port); a client transport with the same
 * timeout, retry, circuit breaker and bulkhead as `@mailroom/http`, carrying correlation and trace
 * context; and call-or-queue, the plan B that queues a command when the call cannot be made.
 */
export { callOrQueue, type RpcCallOrQueueOptions, type RpcCallOrQueueResult } from './call-or-queue.js';
export { type RpcErrorCode, RpcErrorCodes } from './errors.js';
export {
  countsAgainstBreaker,
  isRpcError,
  isTransientCode,
  isTransientRpcError,
  mayHaveActed,
  RpcError,
  type RpcErrorInit,
} from './rpc-error.js';
export {
  correlationServerInterceptor,
  createRpcServer,
  internalErrorInterceptor,
  type RpcRoutesOptions,
  type RpcServerFactoryOptions,
  type RpcServerOptions,
  rpcRoutes,
  rpcServerFactory,
} from './rpc-server.js';
export {
  createRpcTransport,
  RPC_IDEMPOTENCY_KEY_HEADER,
  type RpcProtocol,
  type RpcRetryEvent,
  type RpcTransport,
  type RpcTransportOptions,
} from './rpc-transport.js';
