import { ErrorCodes, MailroomError } from './errors.js';
import type { TransportCapabilities } from './transport.js';

/** When a published or sent message is to be delivered: at most one of the two. */
export interface ScheduleOptions {
  /** Deliver no sooner than this instant; a time not in the future means now. */
  deliverAt?: Date;
  /** Deliver no sooner than this many milliseconds from now (>= 0); 0 means now. */
  delayMs?: number;
}

/** A clock: the current time in epoch milliseconds (`Date.now` unless a test harness fakes it). */
export type Clock = () => number;

/**
 * Turns `deliverAt` / `delayMs` into the instant a transport receives as `OutgoingMessage.deliverAt`:
 * undefined when the message is to be delivered now (neither given, a zero delay, or a time not in
 * the future). Throws `MAILROOM_ERR_SCHEDULE_INVALID` when both are given, the delay is negative or
 * not a finite number, or `deliverAt` is not a valid `Date`; throws `MAILROOM_ERR_SCHEDULE_TOO_FAR`
 * when the delay exceeds the transport's `maxScheduleDelayMs` (0 when it declares none).
 */
/** Why a transport without `maxScheduleDelayMs` refuses a scheduled message (completes "The <name> transport ..."). */
export const CANNOT_SCHEDULE = 'cannot schedule messages (it declares no maxScheduleDelayMs)';

/** True when a transport with these capabilities can deliver a message later (it declares a `maxScheduleDelayMs` above 0). */
export function canSchedule(capabilities: Pick<TransportCapabilities, 'maxScheduleDelayMs'>): boolean {
  return (capabilities.maxScheduleDelayMs ?? 0) > 0;
}

export function resolveDeliverAt(options: ScheduleOptions, capabilities: TransportCapabilities, transportName: string, now: number): Date | undefined {
  const { deliverAt, delayMs } = options;
  if (deliverAt === undefined && delayMs === undefined) return undefined;
  if (deliverAt !== undefined && delayMs !== undefined) {
    throw new MailroomError(ErrorCodes.SCHEDULE_INVALID, 'Give either deliverAt or delayMs, not both', { details: { deliverAt, delayMs } });
  }
  let at: number;
  if (delayMs !== undefined) {
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
      throw new MailroomError(ErrorCodes.SCHEDULE_INVALID, `delayMs must be a finite number >= 0, got ${String(delayMs)}`, { details: { delayMs } });
    }
    at = now + delayMs;
  } else {
    if (!(deliverAt instanceof Date) || Number.isNaN(deliverAt.getTime())) {
      throw new MailroomError(ErrorCodes.SCHEDULE_INVALID, `deliverAt must be a valid Date, got ${String(deliverAt)}`);
    }
    at = deliverAt.getTime();
  }
  const delay = at - now;
  if (delay <= 0) return undefined;
  const max = capabilities.maxScheduleDelayMs ?? 0;
  if (delay > max) {
    throw new MailroomError(
      ErrorCodes.SCHEDULE_TOO_FAR,
      canSchedule(capabilities)
        ? `The ${transportName} transport schedules at most ${max} ms ahead; this message was scheduled ${Math.round(delay)} ms ahead`
        : `The ${transportName} transport ${CANNOT_SCHEDULE}`,
      { details: { delayMs: delay, maxScheduleDelayMs: max, transport: transportName } },
    );
  }
  return new Date(at);
}

/** Milliseconds from `now` until a message's `deliverAt` (0 when it is due now or has none): what a transport waits. */
export function scheduledDelayMs(message: { readonly deliverAt?: Date | undefined }, now: number = Date.now()): number {
  const at = message.deliverAt?.getTime();
  return at === undefined || Number.isNaN(at) ? 0 : Math.max(0, at - now);
}
