/**
 * The error codes specific to `@mailroom/rabbitmq`, next to core's `ErrorCodes` (which this package
 * reuses wherever they fit: `TRANSPORT_UNAVAILABLE`, `TRANSPORT_CONFIRM_TIMEOUT`, `TRANSPORT_SETTLED`...).
 * Documented in `docs/errors.md`.
 */
export const RabbitMqErrorCodes = {
  /** RabbitMQ refused the connection or a declaration: wrong user name or password, a vhost that does not exist or that the user may not use, or missing permissions. */
  ACCESS_REFUSED: 'MAILROOM_ERR_RABBITMQ_ACCESS_REFUSED',
  /** The TLS handshake with RabbitMQ failed: its certificate is not trusted (give the CA in `socketOptions.ca`), has expired, or does not match the host name. */
  TLS: 'MAILROOM_ERR_RABBITMQ_TLS',
  /** A queue or exchange already exists with other settings than this transport's (e.g. a classic queue where a quorum queue is configured). */
  TOPOLOGY_MISMATCH: 'MAILROOM_ERR_RABBITMQ_TOPOLOGY_MISMATCH',
  /** A header cannot travel over AMQP: its name is longer than 255 bytes, or it is reserved for the transport's bookkeeping (`x-mailroom-*`, `x-death`...). */
  HEADER_INVALID: 'MAILROOM_ERR_RABBITMQ_HEADER_INVALID',
  /** A delayed retry asked for a delay longer than the delay levels can hold (about 497 days). */
  DELAY_TOO_LONG: 'MAILROOM_ERR_RABBITMQ_DELAY_TOO_LONG',
  /** Another process kept the dead-letter queue or the endpoint registry locked for longer than the lock timeout; try again. */
  LOCK_TIMEOUT: 'MAILROOM_ERR_RABBITMQ_LOCK_TIMEOUT',
  /** Recorded as the reason of a dead letter that RabbitMQ itself moved to the error queue (delivery limit reached, rejected by another client). */
  BROKER_DEAD_LETTERED: 'MAILROOM_ERR_RABBITMQ_BROKER_DEAD_LETTERED',
  /** A dead letter cannot be replayed because it has no known endpoint: it does not say which queue it came from (RabbitMQ dead-lettered it without `x-first-death-queue`, or another client put it in the error queue). It stays in the error queue: inspect it, then publish it yourself or purge it. */
  DEAD_LETTER_NO_ENDPOINT: 'MAILROOM_ERR_RABBITMQ_DEAD_LETTER_NO_ENDPOINT',
} as const;
