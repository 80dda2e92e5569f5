import type { JetStreamManager } from '@nats-io/jetstream';

/** The NATS server the benchmarks use; `MAILROOM_NATS_URL` overrides it. */
export const NATS_SERVERS = process.env.MAILROOM_NATS_URL ?? '127.0.0.1:4222';

/** Deletes every stream whose name starts with `prefix` (Mailroom's streams and its KV bucket's `KV_<PREFIX>...`). */
export async function deleteStreams(jsm: JetStreamManager, prefixes: readonly string[]): Promise<void> {
  const names: string[] = [];
  for await (const info of jsm.streams.list()) names.push(info.config.name);
  for (const name of names) {
    if (prefixes.some((prefix) => name.startsWith(prefix))) await jsm.streams.delete(name).catch(() => undefined);
  }
}
