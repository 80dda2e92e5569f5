import { defineEvent } from '@mailroom/core';
import { z } from 'zod';

/** The payload every messaging scenario sends: a sequence number, the publish time and padding up to 1 KiB of JSON. */
export interface BenchMessage {
  seq: number;
  /** `performance.now()` when the publish was called (publisher and consumer share the process). */
  sentAt: number;
  pad: string;
}

/** The size of a message body: 1 KiB of JSON. */
export const MESSAGE_BYTES = 1024;

const PAD = 'x'.repeat(MESSAGE_BYTES);

/** A message whose JSON encoding is exactly {@link MESSAGE_BYTES} bytes (for sequence numbers up to 10^9). */
export function benchMessage(seq: number, sentAt = performance.now()): BenchMessage {
  const message: BenchMessage = { seq, sentAt: Number(sentAt.toFixed(3)), pad: '' };
  const overhead = Buffer.byteLength(JSON.stringify(message));
  message.pad = PAD.slice(0, Math.max(0, MESSAGE_BYTES - overhead));
  return message;
}

/** The Mailroom contract of {@link BenchMessage}: validated on publish and on receipt, as in a real service. */
export const BenchEvent = defineEvent('bench.MessageSent', {
  version: 1,
  schema: z.object({ seq: z.number().int().nonnegative(), sentAt: z.number(), pad: z.string() }),
});

/** The Mailroom contract of the scaling scenario's work item (same payload). */
export const BenchWork = defineEvent('bench.WorkRequested', {
  version: 1,
  schema: z.object({ seq: z.number().int().nonnegative(), sentAt: z.number(), pad: z.string() }),
});
