import { fileURLToPath } from 'node:url';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createRpcTransport, isRpcError } from '@mailroom/rpc';
import { ItemService } from '../gen/mailroom/bench/v1/item_pb.js';
import { interleave } from '../interleave.js';
import { LatencyHistogram } from '../latency-histogram.js';
import { runPaced, runWindowed } from '../load-drivers.js';
import { Recorder } from '../recorder.js';
import type { Scenario } from '../scenario.js';
import { significant } from '../stats.js';
import { measureFailures, startUpstream, stopUpstream, timeFailures } from '../upstream.js';
import { packageVersions } from '../versions.js';

const CONCURRENCY = 32;
const RAW_CONNECT = 'raw Connect (gRPC)';
const RAW_GRPC_JS = 'raw @grpc/grpc-js';
const MAILROOM = 'mailroom transport (gRPC)';
const PROTO_DIR = fileURLToPath(new URL('../../proto', import.meta.url));

type GetItem = (id: string) => Promise<unknown>;

interface GrpcJsItemClient extends grpc.Client {
  getItem(request: { id: string }, callback: grpc.requestCallback<unknown>): grpc.ClientUnaryCall;
}

function grpcJsClient(url: string): GrpcJsItemClient {
  const definition = protoLoader.loadSync('mailroom/bench/v1/item.proto', { includeDirs: [PROTO_DIR] });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    mailroom: { bench: { v1: { ItemService: new (address: string, credentials: grpc.ChannelCredentials) => GrpcJsItemClient } } };
  };
  return new loaded.mailroom.bench.v1.ItemService(url.replace('http://', ''), grpc.credentials.createInsecure());
}

/** Scenario: the resilient RPC transport vs raw Connect and raw grpc-js, against one Mailroom RPC server. */
export const rpcScenario: Scenario = {
  name: 'rpc',
  title: 'RPC: the resilient transport vs raw Connect and raw @grpc/grpc-js',
  description:
    'Unary gRPC calls (HTTP/2, cleartext) of a small message to a Mailroom RPC server (`createRpcServer`: Fastify, connect-fastify, one port for HTTP/1.1 and HTTP/2) in a child process; ' +
    `every client on its own HTTP/2 connection. Throughput: ${CONCURRENCY} calls in flight. Client CPU: \`process.cpuUsage()\` of the benchmark process (client only) per call during the throughput round. ` +
    'Latency: paced at half the raw Connect median throughput ("half max"). ' +
    'The Mailroom transport runs with its defaults (timeout 5 s, retry 2 with backoff, consecutive-failure breaker, bulkhead 64 + 256 waiting, correlation id and traceparent headers), except a bulkhead queue as long as the paced round, so that an open loop stalled by a loaded machine queues calls instead of having them rejected (their wait counts in their latency), ' +
    'over the same Connect gRPC transport as the raw Connect contender. Fail-fast: with the breaker open (tripped by 5 UNAVAILABLE answers), the time one call takes to fail, next to a raw Connect call answered UNAVAILABLE.',
  async run(context) {
    const recorder = new Recorder();
    const count = context.size(20_000, 500);
    const paced = context.size(5000, 200);
    const failures = context.size(2000, 100);
    const upstream = await startUpstream('./rpc-upstream.js');
    const { url } = upstream;
    const rawSessions = new Http2SessionManager(url);
    const raw = createClient(ItemService, createGrpcTransport({ baseUrl: url, sessionManager: rawSessions }));
    // The client's defaults, except a bulkhead queue as long as the paced round: an open loop keeps
    // sending on schedule when the machine stalls, so under load more than 64 calls can be in flight
    // and the default bulkhead (64 + 256 waiting) would reject the rest. Queued calls wait inside the bulkhead and
    // their wait counts in their latency; below 64 in flight (the throughput round has 32) it changes nothing.
    const transport = createRpcTransport({ name: 'items', baseUrl: url, bulkhead: { limit: 64, queue: paced } });
    const mailroom = createClient(ItemService, transport);
    const grpcJs = grpcJsClient(url);
    const calls: Record<string, GetItem> = {
      [RAW_CONNECT]: (id) => raw.getItem({ id }),
      [MAILROOM]: (id) => mailroom.getItem({ id }),
      [RAW_GRPC_JS]: (id) =>
        new Promise((resolve, reject) => {
          grpcJs.getItem({ id }, (error, value) => (error ? reject(error) : resolve(value)));
        }),
    };
    const names = Object.keys(calls);
    let rate = 0;
    try {
      await interleave(names, context.rounds, context.warmup, async (name, measured) => {
        const call = calls[name] as GetItem;
        const cpuBefore = process.cpuUsage();
        const started = performance.now();
        await runWindowed(count, CONCURRENCY, (i) => call(`item-${i}`));
        const perSecond = count / ((performance.now() - started) / 1000);
        const cpu = process.cpuUsage(cpuBefore);
        const cpuPerCall = (cpu.user + cpu.system) / count;
        context.log(`${name}: ${Math.round(perSecond)} calls/s, client CPU ${cpuPerCall.toFixed(1)} µs/call${measured ? '' : ' (warm-up)'}`);
        if (measured) {
          recorder.add('GetItem', name, 'throughput', 'calls/s', 'higher', significant(perSecond));
          recorder.add('GetItem', name, 'client CPU per call', 'µs', 'lower', significant(cpuPerCall));
        }
      });
      rate = Math.max(50, Math.round(recorder.median('GetItem', RAW_CONNECT, 'throughput') / 2));
      context.log(`latency at ${rate} calls/s (half the raw Connect throughput)`);
      await interleave(names, context.rounds, context.warmup, async (name, measured) => {
        const call = calls[name] as GetItem;
        const histogram = new LatencyHistogram();
        await runPaced(paced, rate, async (i) => {
          const started = performance.now();
          await call(`item-${i}`);
          histogram.recordMs(performance.now() - started);
        });
        context.log(
          `${name}: p50 ${histogram.percentileMs(50).toFixed(3)} ms p99 ${histogram.percentileMs(99).toFixed(3)} ms at ${rate}/s${measured ? '' : ' (warm-up)'}`,
        );
        if (measured) {
          recorder.add('GetItem', name, 'p50 at half max', 'ms', 'lower', significant(histogram.percentileMs(50)));
          recorder.add('GetItem', name, 'p99 at half max', 'ms', 'lower', significant(histogram.percentileMs(99)));
        }
      });
      recorder.compare('GetItem', 'throughput', MAILROOM, RAW_CONNECT, { op: '>=', value: 0.9 });
      recorder.compare('GetItem', 'client CPU per call', MAILROOM, RAW_CONNECT, { op: '<=', value: 1.1 });
      recorder.compare('GetItem', 'p50 at half max', MAILROOM, RAW_CONNECT, { op: '<=', value: 1.1 });
      recorder.compare('GetItem', 'p99 at half max', MAILROOM, RAW_CONNECT);
      recorder.compare('GetItem', 'throughput', MAILROOM, RAW_GRPC_JS);
      recorder.compare('GetItem', 'throughput', RAW_CONNECT, RAW_GRPC_JS);

      const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
      const breaking = createRpcTransport({
        name: 'failing',
        baseUrl: url,
        retry: false,
        breaker: { consecutiveFailures: 5, halfOpenAfterMs: 600_000 },
        logger: silent,
      });
      const failingClient = createClient(ItemService, breaking);
      await timeFailures(5, () => failingClient.getItem({ id: 'fail' }));
      if (breaking.breakerState !== 'open') throw new Error(`the breaker is ${breaking.breakerState} after 5 failures`);
      const failing: Record<string, () => Promise<unknown>> = {
        'mailroom, breaker open': () =>
          failingClient.getItem({ id: 'fail' }).catch((error: unknown) => {
            if (!isRpcError(error) || !error.breakerOpen) throw new Error(`expected a breaker-open error, got ${String(error)}`);
            throw error;
          }),
        'raw Connect, UNAVAILABLE upstream': () => raw.getItem({ id: 'fail' }),
      };
      await measureFailures(failing, failures, context, recorder);
      if (breaking.breakerState !== 'open') throw new Error('the breaker closed during the fail-fast measurement');
      breaking.close();
    } finally {
      grpcJs.close();
      transport.close();
      rawSessions.abort();
      await stopUpstream(upstream);
    }
    return {
      versions: packageVersions([
        '@connectrpc/connect',
        '@connectrpc/connect-node',
        '@connectrpc/connect-fastify',
        '@bufbuild/protobuf',
        '@grpc/grpc-js',
        '@httptoolkit/httpolyglot',
        'fastify',
        'cockatiel',
        '@mailroom/rpc',
      ]),
      settings: {
        count,
        concurrency: CONCURRENCY,
        pacedCount: paced,
        rateHalfMax: rate,
        failureCalls: failures,
        transport: 'defaults',
        protocol: 'grpc over h2c',
      },
      recorder,
      notes: [],
    };
  },
};
