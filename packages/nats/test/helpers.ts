import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createNatsNames } from '../src/nats-names.js';

/** The NATS server of a developer machine, as the conformance `Services` describe it. */
export const NATS_URL = 'nats://127.0.0.1:4222';

/** A prefix unique to this run, so streams of parallel test files and engineers never meet. */
export function uniquePrefix(label: string): string {
  return `t${label}${randomBytes(4).toString('hex')}`;
}

/** Deletes every stream (and the retry-state bucket) a prefix created. */
export async function deleteStreams(prefix: string): Promise<void> {
  const names = createNatsNames(prefix);
  const nc = await connect({ servers: NATS_URL });
  try {
    const jsm = await jetstreamManager(nc);
    for (const stream of names.streams) {
      await jsm.streams.delete(stream).catch(() => undefined);
    }
  } finally {
    await nc.close();
  }
}
