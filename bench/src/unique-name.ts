import { randomBytes } from 'node:crypto';

/** A name no other run uses: `<prefix>-<random>`, lower case (valid as an endpoint, queue, stream prefix or database name). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}
