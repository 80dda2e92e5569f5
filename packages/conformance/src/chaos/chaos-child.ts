import { connectTransport, type Logger, type Transport } from '@mailroom/core';
import { CHAOS_CONFIG_ENV, type ChaosChildConfig, type ChaosReport } from './chaos-protocol.js';

/** The configuration the parent gave this child process. */
export function childConfig(): ChaosChildConfig {
  const raw = process.env[CHAOS_CONFIG_ENV];
  if (!raw) throw new Error(`${CHAOS_CONFIG_ENV} is not set: this file is started by runTotalQueueCheck`);
  return JSON.parse(raw) as ChaosChildConfig;
}

/** Sends a report to the parent; resolves once it is written to the IPC channel (it survives this process being killed then). */
export function send(report: ChaosReport): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) resolve();
    else process.send(report, undefined, {}, () => resolve());
  });
}

/**
 * Collects ids and sends them in one report per event-loop turn. `add` resolves once the report
 * holding the id was written, so a consumer that acks after it never acks a message its parent
 * does not know was handled.
 */
export function idBatcher(kind: 'confirmed' | 'handled'): (id: string) => Promise<void> {
  let ids: string[] = [];
  let waiting: (() => void)[] = [];
  const flush = () => {
    const [batch, done] = [ids, waiting];
    ids = [];
    waiting = [];
    void send({ kind, ids: batch, at: Date.now() }).then(() => {
      for (const resolve of done) resolve();
    });
  };
  return (id) => {
    ids.push(id);
    if (ids.length === 1) setImmediate(flush);
    return new Promise<void>((resolve) => waiting.push(resolve));
  };
}

/** A logger that forwards the transport's connection events (log lines with an `event` field) to the parent and drops the rest. */
function reportingLogger(): Logger {
  const forward = (fields: object) => {
    const { event, error, reason, node, server } = fields as { event?: string; error?: string; reason?: string; node?: string; server?: string };
    if (event) void send({ kind: 'event', event, at: Date.now(), detail: [node ?? server, error ?? reason].filter(Boolean).join(' ') });
  };
  const logger: Logger = { trace: () => undefined, debug: () => undefined, info: forward, warn: forward, error: forward, child: () => logger };
  return logger;
}

/** Connects the transport the parent named, logging its connection events to the parent. */
export function connectChild(config: ChaosChildConfig): Promise<Transport> {
  return connectTransport(config.url, { ...config.transportOptions, logger: reportingLogger() });
}
