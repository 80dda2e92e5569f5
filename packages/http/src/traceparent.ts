import { randomFillSync } from 'node:crypto';
import { TRACEPARENT_PATTERN } from '@mailroom/core';

/** Random bytes are drawn from the OS 4 KiB at a time: a call into the OS per id cost more than building the rest of the request's headers. */
const pool = Buffer.allocUnsafe(4096);
let poolOffset = pool.length;

function randomHex(bytes: number): string {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return hex;
}

/** True when `value` is a well-formed W3C `traceparent` (version 00 layout, non-zero trace and span ids). */
export function isTraceparent(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = TRACEPARENT_PATTERN.exec(value);
  return match !== null && match[1] !== 'ff' && !/^0+$/.test(match[2] as string) && !/^0+$/.test(match[3] as string);
}

/**
 * The `traceparent` of an outgoing call: the same trace id and flags as `parent` with a new span id,
 * or a fresh sampled trace when `parent` is missing or malformed. Always well-formed.
 */
export function childTraceparent(parent?: string): string {
  const span = randomHex(8);
  if (parent !== undefined && isTraceparent(parent)) {
    const [, , trace, , flags] = TRACEPARENT_PATTERN.exec(parent) as RegExpExecArray;
    return `00-${trace}-${span}-${flags}`;
  }
  return `00-${randomHex(16)}-${span}-01`;
}
