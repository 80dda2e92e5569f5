import { join } from 'node:path';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { mailroomSqlite } from '../contenders/mailroom-sqlite.js';
import { interleave } from '../interleave.js';
import { MessagingBench } from '../messaging-runs.js';
import { Recorder } from '../recorder.js';
import type { Scenario } from '../scenario.js';
import { significant } from '../stats.js';
import { tempDir } from '../temp-dir.js';
import { packageVersions } from '../versions.js';

const PREFETCH = 64;
const WINDOW = 256;
const OFF = 'telemetry off';
const API = 'API, no SDK';
const SDK = 'SDK, always-on sampling';

/** A span exporter that drops what it is given at once (counting it): the SDK's work without a network in the measurement. */
class DiscardingExporter implements SpanExporter {
  spans = 0;
  export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    this.spans += spans.length;
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
}

/** A metric reader nobody collects from: instruments still aggregate every measurement, as under a Prometheus exporter between scrapes. */
class IdleReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** Registers the OpenTelemetry SDK globally, as an application would: context manager, W3C propagator, tracer and meter providers. */
function registerSdk(exporter: SpanExporter): () => Promise<void> {
  const tracerProvider = new BasicTracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 65_536 })],
  });
  const meterProvider = new MeterProvider({ readers: [new IdleReader()] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  return async () => {
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
    trace.disable();
    metrics.disable();
    propagation.disable();
    context.disable();
  };
}

/** Scenario: what OpenTelemetry instrumentation costs in throughput, off vs the API alone vs the SDK recording everything. */
export const telemetryScenario: Scenario = {
  name: 'telemetry',
  title: 'OpenTelemetry instrumentation: throughput off, with the API alone, with the SDK',
  description:
    `Publish -> handle -> ack through one endpoint, ${WINDOW} publishes in flight (group commit), prefetch ${PREFETCH}, on the SQLite transport (WAL, synchronous=NORMAL, its own file per contender): the fastest transport on this machine, so the one where a cost per message shows most. ` +
    `"${OFF}" is createEndpoint({ telemetry: false }); "${API}" is the default with no SDK registered (every call a no-op of @opentelemetry/api); ` +
    `"${SDK}" registers the SDK first (AsyncLocalStorage context manager, W3C propagator, AlwaysOn sampler, a batch span processor into an exporter that drops the spans, a meter provider aggregating every measurement). ` +
    `The first two run interleaved with no SDK registered; then the SDK is registered and "${OFF}" runs again interleaved with "${SDK}" (its own baseline). Throughput: first publish to last delivery.`,
  async run(context) {
    const recorder = new Recorder();
    const dir = tempDir('mailroom-bench-telemetry');
    const count = context.size(30_000, 1000);
    const exporter = new DiscardingExporter();
    let n = 0;
    const make = (name: string, telemetry: false | undefined): MessagingBench => {
      n += 1;
      return new MessagingBench(mailroomSqlite({ name, path: join(dir.path, `t${n}.db`), endpoint: `bench-telemetry-${n}`, prefetch: PREFETCH, telemetry }));
    };
    const phase = async (contenders: [string, false | undefined][], measured: string) => {
      const benches = new Map(contenders.map(([name, telemetry]) => [name, make(name, telemetry)]));
      try {
        for (const bench of benches.values()) await bench.start();
        await interleave([...benches.keys()], context.rounds, context.warmup, async (name, keep) => {
          const result = await (benches.get(name) as MessagingBench).throughput(count, WINDOW, 120_000);
          context.log(`${measured}: ${name}: ${Math.round(result.perSecond)} msg/s${keep ? '' : ' (warm-up)'}`);
          if (keep) recorder.add(measured, name, 'throughput', 'msg/s', 'higher', significant(result.perSecond));
        });
      } finally {
        for (const bench of benches.values()) await bench.contender.stop();
      }
    };
    try {
      await phase(
        [
          [OFF, false],
          [API, undefined],
        ],
        'no SDK',
      );
      recorder.compare('no SDK', 'throughput', API, OFF, { op: '>=', value: 0.98 });
      const unregister = registerSdk(exporter);
      try {
        await phase(
          [
            [OFF, false],
            [SDK, undefined],
          ],
          'SDK registered',
        );
        recorder.compare('SDK registered', 'throughput', SDK, OFF);
      } finally {
        await unregister();
      }
    } finally {
      dir.remove();
    }
    return {
      versions: packageVersions([
        '@mailroom/core',
        '@mailroom/sqlite',
        '@opentelemetry/api',
        '@opentelemetry/sdk-trace-base',
        '@opentelemetry/sdk-metrics',
        'better-sqlite3',
      ]),
      settings: { count, prefetch: PREFETCH, window: WINDOW, sampler: 'AlwaysOn', spanProcessor: 'BatchSpanProcessor (maxQueueSize 65536)' },
      recorder,
      notes: [`The SDK runs exported ${exporter.spans} spans in all (dropped by the exporter after the batch processor handed them over).`],
    };
  },
};
