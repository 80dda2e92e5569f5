import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/** The OpenTelemetry SDK of one shop process: its tracer provider and its Prometheus metrics. */
export interface ShopTelemetry {
  /** The Prometheus exporter (a metric reader); its request handler serves `/metrics`. */
  readonly prometheus: PrometheusExporter;
  /** Whether spans are exported (an OTLP endpoint is configured). */
  readonly exporting: boolean;
  /** Flushes the spans not exported yet and stops the providers. */
  shutdown(): Promise<void>;
}

/** True when the environment names an OTLP endpoint for traces (the variables the OTLP exporter reads). */
export function otlpConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim());
}

/**
 * Registers the OpenTelemetry SDK for one shop process, before anything Mailroom starts (the metrics
 * API has no proxy). Traces: W3C trace context, and when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `..._TRACES_ENDPOINT`) is set, every span sampled and sent over OTLP/HTTP in batches; without an
 * endpoint nothing is recorded, but trace ids are still made and propagated (they show in logs and in
 * the UI). Metrics: a Prometheus exporter that serves no port of its own (the process's ops server
 * serves `/metrics`), every metric labelled with `service_name` and `service_instance_id`.
 */
export function startShopTelemetry(service: string, worker: number): ShopTelemetry {
  const resource = resourceFromAttributes({ 'service.name': service, 'service.instance.id': String(worker), 'service.namespace': 'mailroom-shop' });
  const exporting = otlpConfigured();
  const tracerProvider = new NodeTracerProvider({
    resource,
    sampler: new ParentBasedSampler({ root: exporting ? new AlwaysOnSampler() : new AlwaysOffSampler() }),
    spanProcessors: exporting ? [new BatchSpanProcessor(new OTLPTraceExporter())] : [],
  });
  tracerProvider.register();
  const prometheus = new PrometheusExporter({ preventServerStart: true, withResourceConstantLabels: /^service\.(name|instance\.id)$/ });
  const meterProvider = new MeterProvider({ resource, readers: [prometheus] });
  metrics.setGlobalMeterProvider(meterProvider);
  return {
    prometheus,
    exporting,
    async shutdown() {
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}
