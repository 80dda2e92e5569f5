/**
 * The producer process of a total-queue check: publishes `total` unique events, paced at
 * `ratePerSecond` with up to `publishConcurrency` in flight, never beyond the number its parent
 * allows yet, and reports each id once the broker confirmed it. A failed publish is made again
 * with the same message (as an outbox relay does) until it is confirmed.
 */
import { HeaderNames } from '@mailroom/core';
import { testMessage } from '../transport-suite.js';
import { childConfig, connectChild, idBatcher, send } from './chaos-child.js';
import type { ChaosAllowance } from './chaos-protocol.js';

const config = childConfig();
const total = config.total ?? 0;
const rate = config.ratePerSecond ?? 1000;
const transport = await connectChild(config);
const confirmed = idBatcher('confirmed');
let started = Date.now();
let next = 0;
let retries = 0;
let lastFailure = '';
let allowed = 0;
let waiting: (() => void)[] = [];
process.on('message', (message: ChaosAllowance) => {
  if (message.kind !== 'allow') return;
  allowed = message.upTo;
  const wake = waiting;
  waiting = [];
  for (const resolve of wake) resolve();
});
/** Resolves once message number `n` may be published; tells the parent when the producer starts waiting. */
async function allowance(n: number): Promise<void> {
  if (n < allowed) return;
  if (waiting.length === 0) void send({ kind: 'gated', at: Date.now() });
  while (n >= allowed) await new Promise<void>((resolve) => waiting.push(resolve));
  // The pace starts again from here rather than bursting to catch up the time spent waiting.
  started = Math.max(started, Date.now() - (n * 1000) / rate);
}
await send({ kind: 'ready' });
started = Date.now();

await Promise.all(
  Array.from({ length: config.publishConcurrency ?? 64 }, async () => {
    while (next < total) {
      const n = next++;
      await allowance(n);
      const due = started + (n * 1000) / rate;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      const message = testMessage(config.type, new TextEncoder().encode(JSON.stringify({ n })));
      for (;;) {
        try {
          await transport.publish(message);
          break;
        } catch (error) {
          retries += 1;
          const why = error instanceof Error ? error.message.slice(0, 160) : String(error);
          if (why !== lastFailure) void send({ kind: 'event', event: 'publish-failed', at: Date.now(), detail: (lastFailure = why) });
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      await confirmed(message.headers[HeaderNames.id] as string);
    }
  }),
);
await send({ kind: 'done', retries });
process.on('disconnect', () => {
  void transport.close().finally(() => process.exit(0));
});
