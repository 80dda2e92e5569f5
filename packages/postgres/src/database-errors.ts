import { type ErrorCode, ErrorCodes, errorMessage, MailroomError } from '@mailroom/core';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * Whether a pg error means the database could not be reached or dropped the session (a network
 * error, SQLSTATE class 08, an administrator or crash shutdown, too many connections, a pool that
 * could not connect in time) rather than refusing the statement itself.
 */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || code.startsWith('08') || code.startsWith('57P') || code === '53300')) return true;
  const message = errorMessage(error);
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end/i.test(
    message,
  );
}

/**
 * A typed error for a failed database call of the transport: `MAILROOM_ERR_TRANSPORT_UNAVAILABLE`
 * when the database could not be reached, else `refused` (the statement was refused).
 */
export function databaseError(error: unknown, what: string, refused: ErrorCode = ErrorCodes.TRANSPORT_PUBLISH_REJECTED): MailroomError {
  const code = isConnectionError(error) ? ErrorCodes.TRANSPORT_UNAVAILABLE : refused;
  return new MailroomError(code, `PostgreSQL transport: ${what}: ${errorMessage(error)}`, { cause: error });
}
