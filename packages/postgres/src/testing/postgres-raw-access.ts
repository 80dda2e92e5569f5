import type { RawAccess, RawMessage } from '@mailroom/conformance';
import pg from 'pg';
import { postgresBrokerTables } from '../broker-tables.js';
import type { PostgresTableOptions } from '../postgres-tables.js';

/** A raw message with values for the PostgreSQL transport's own columns, as a foreign program could write them. */
export interface PostgresRawMessage extends RawMessage {
  /** Written to `first_failure_at` as given (a PostgreSQL timestamptz literal such as `infinity`). */
  readonly firstFailureAt?: string;
}

/** Where {@link postgresRawAccess} connects: the transport's database and the place of its tables. */
export interface PostgresRawAccessOptions extends PostgresTableOptions {
  readonly connectionString: string;
}

const text = (value: string) => new TextEncoder().encode(value);

/**
 * Raw access to the PostgreSQL transport's tables for the conformance suite's hostile-message
 * tests: inserts rows into the messages table with a pg client of its own (the `headers` column
 * written as given: a string as it is, even when it is not JSON; an object as JSON, whatever its
 * value types) and sends the `NOTIFY` the transport would. Its own cases: headers that are not a
 * JSON object, values that are not strings, NUL characters in headers, and an absurd first-failure time.
 */
export function postgresRawAccess(options: PostgresRawAccessOptions): RawAccess {
  const tables = postgresBrokerTables(options);
  return {
    async connect() {
      const client = new pg.Client({ connectionString: options.connectionString, application_name: 'mailroom-raw-access' });
      await client.connect();
      return {
        async inject(endpoint, type, message: PostgresRawMessage) {
          const headers = typeof message.headers === 'string' ? message.headers : JSON.stringify(message.headers);
          await client.query(
            `WITH inserted AS (
               INSERT INTO ${tables.messages} (endpoint, type, headers, body, first_failure_at) VALUES ($1, $2, $3, $4, $5::timestamptz) RETURNING endpoint
             ) SELECT pg_notify($6, endpoint) FROM inserted`,
            [endpoint, type, headers, Buffer.from(message.body), message.firstFailureAt ?? null, tables.channel],
          );
        },
        async close() {
          await client.end();
        },
      };
    },
    cases: [
      {
        name: 'headers column that is not JSON',
        build: () => ({ headers: '{"ce-id": "half written', body: text('{"n": 1, "case": "headers not JSON"}') }),
        reasons: ['MAILROOM_ERR_ENVELOPE_INVALID'],
      },
      {
        name: 'headers column holding a JSON array',
        build: () => ({ headers: '["ce-id", "x"]', body: text('{"n": 1, "case": "headers array"}') }),
        reasons: ['MAILROOM_ERR_ENVELOPE_INVALID'],
      },
      {
        name: 'header values that are not strings',
        build: (valid) => ({
          headers: { ...valid, 'ce-id': 1234567890123456, 'ce-specversion': 1.0, 'x-nested': { deep: [1, 2] }, 'x-null': null, ['__proto__']: 'x' },
          body: text('{"n": 1, "case": "non-string headers"}'),
        }),
        reasons: ['MAILROOM_ERR_ENVELOPE_INVALID'],
      },
      {
        // PostgreSQL text cannot hold NUL: the headers keep it escaped in their JSON, and the dead
        // letter's error message, which quotes the type as it is, must still be storable.
        name: 'NUL characters in header values',
        build: (valid) => ({
          headers: JSON.stringify({ ...valid, 'ce-type': `${valid['ce-type']}\u0000evil`, 'x-nul': 'a\u0000b' }),
          body: text('{"n": 1, "case": "NUL in headers"}'),
        }),
        reasons: ['MAILROOM_ERR_CONTRACT_UNKNOWN_TYPE'],
      },
      {
        name: 'first_failure_at of infinity',
        build: (valid): PostgresRawMessage => ({ headers: valid, body: text('{"n": 1, "case": "infinite first failure",'), firstFailureAt: 'infinity' }),
        reasons: ['MAILROOM_ERR_CODEC_MALFORMED'],
      },
    ],
  };
}
