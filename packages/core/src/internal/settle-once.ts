import { ErrorCodes, MailroomError } from '../errors.js';

/** Why a settle is refused when the delivery is no longer held: it was settled, or given back when its subscription closed. */
export const ALREADY_SETTLED = 'This delivery was already settled or returned to the queue';

/** Why a settle of a leased delivery did not apply: its lease ran out first, so another consumer may hold the message. */
export const LEASE_EXPIRED = 'The lease of this delivery had expired; another consumer may have it';

/** The `MAILROOM_ERR_TRANSPORT_SETTLED` error of a refused settle; `message` says why and that nothing was applied. */
export function settledError(message: string): MailroomError {
  return new MailroomError(ErrorCodes.TRANSPORT_SETTLED, message);
}

/**
 * The settle-once guard of a transport that keeps its unsettled deliveries by key (a `Map` or a
 * `Set`): takes `key` out of `inFlight`, which only the first settle can do, or throws
 * `MAILROOM_ERR_TRANSPORT_SETTLED` ({@link ALREADY_SETTLED}) when it is not there. Synchronous, so
 * of two settles started in the same turn exactly one passes; call it before any I/O of the settle.
 */
export function claimSettle<K>(inFlight: { delete(key: K): boolean }, key: K): void {
  if (!inFlight.delete(key)) throw settledError(ALREADY_SETTLED);
}
