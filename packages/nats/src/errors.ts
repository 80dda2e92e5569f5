/**
 * The error codes of `@mailroom/nats`. Every error this package throws is a `MailroomError` with one
 * of these codes or a core code where one fits (`MAILROOM_ERR_TRANSPORT_*`); `docs/errors.md` lists them all.
 */
export const NatsErrorCodes = {
  /** A message type or endpoint name cannot be written as a NATS subject (an empty segment such as `a..b` or a trailing `.`). */
  NATS_SUBJECT_INVALID: 'MAILROOM_ERR_NATS_SUBJECT_INVALID',
  /** A JetStream stream Mailroom needs exists with settings it cannot work with (other subjects or retention); the message says which and how to fix it. */
  NATS_STREAM_CONFLICT: 'MAILROOM_ERR_NATS_STREAM_CONFLICT',
  /** The NATS server refused the connection's credentials (`Authorization Violation`, an expired user or account, an authentication timeout): fix the user and password or token in the URL, or the credentials in `connectOptions`. Not transient: the connection is not retried. */
  NATS_AUTH: 'MAILROOM_ERR_NATS_AUTH',
} as const;
