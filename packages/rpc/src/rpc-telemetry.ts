import { type Code, ConnectError } from '@connectrpc/connect';
import { type Context, context, propagation, type Span, SpanStatusCode, type TextMapGetter, trace } from '@opentelemetry/api';

/** The instrumentation scope of `@mailroom/rpc`'s spans. */
export const RPC_INSTRUMENTATION_NAME = '@mailroom/rpc';

/** The attribute names of RPC spans: the OpenTelemetry RPC semantic conventions, plus Mailroom's target name. */
export const RpcAttributes = {
  system: 'rpc.system',
  service: 'rpc.service',
  method: 'rpc.method',
  grpcStatusCode: 'rpc.grpc.status_code',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  errorType: 'error.type',
  resendCount: 'rpc.request.resend_count',
  /** The name of the transport's target (`createRpcTransport({ name })`). */
  target: 'mailroom.rpc.target',
} as const;

/** The tracer of `@mailroom/rpc` on the global tracer provider (a proxy: an SDK registered later is used). */
export const rpcTracer = trace.getTracer(RPC_INSTRUMENTATION_NAME, '0.1.0');

/** `rpc.system` for a wire protocol: gRPC and gRPC-Web are `grpc`, Connect is `connect_rpc`. */
export function rpcSystem(protocol: 'grpc' | 'grpc-web' | 'connect'): string {
  return protocol === 'connect' ? 'connect_rpc' : 'grpc';
}

/** The gRPC status code of an outcome: 0 for success, the Connect code (numbered as gRPC's) for a failure. */
export function statusCodeOf(error: unknown): number {
  return error instanceof ConnectError ? (error.code as Code) : 2; // UNKNOWN
}

/** Marks an RPC span failed: its status, `error.type` (a `MAILROOM_ERR_*` code or the gRPC code name) and the exception. */
export function failRpcSpan(span: Span, errorType: string, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, ...(error instanceof Error && { message: error.message }) });
  span.setAttribute(RpcAttributes.errorType, errorType);
}

const headersGetter: TextMapGetter<Headers> = {
  get: (carrier, key) => carrier.get(key) ?? undefined,
  keys: (carrier) => {
    const names: string[] = [];
    carrier.forEach((_value, key) => {
      names.push(key);
    });
    return names;
  },
};

/** The context a server call continues: what the global propagator reads from its headers (W3C trace context with the SDK). */
export function extractCallContext(header: Headers): Context {
  return propagation.extract(context.active(), header, headersGetter);
}
