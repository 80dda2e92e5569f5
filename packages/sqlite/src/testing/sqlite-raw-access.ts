import type { RawAccess } from '@mailroom/conformance';
import Database from 'better-sqlite3';
import { signalBrokerWrite } from '../wake-signal.js';

/**
 * Raw access to a SQLite broker file for the conformance suite's hostile-message tests: inserts
 * rows into `mailroom_messages` with a separate connection, the `headers` column written as given
 * (a string as it is, even when it is not JSON; an object as JSON, whatever its value types).
 */
export function sqliteRawAccess(path: string): RawAccess {
  return {
    async connect() {
      const db = new Database(path);
      db.pragma('busy_timeout = 10000');
      const insert = db.prepare('INSERT INTO mailroom_messages (endpoint, headers, body, visible_at, enqueued_at) VALUES (?, ?, ?, ?, ?)');
      return {
        async inject(endpoint, _type, message) {
          const headers = typeof message.headers === 'string' ? message.headers : JSON.stringify(message.headers);
          const now = Date.now();
          insert.run(endpoint, headers, Buffer.from(message.body), now, now);
          signalBrokerWrite(path);
        },
        async close() {
          db.close();
        },
      };
    },
    cases: [
      {
        name: 'headers column that is not JSON',
        build: () => ({ headers: '{"ce-id": "half written', body: new TextEncoder().encode('{"n": 1, "case": "headers not JSON"}') }),
        reasons: ['MAILROOM_ERR_ENVELOPE_INVALID'],
      },
      {
        name: 'headers column holding a JSON array',
        build: () => ({ headers: '["ce-id", "x"]', body: new TextEncoder().encode('{"n": 1, "case": "headers array"}') }),
        reasons: ['MAILROOM_ERR_ENVELOPE_INVALID'],
      },
      {
        name: 'header values that are not strings',
        build: (valid) => ({
          // Values become strings ("1" is no CloudEvents specversion, so this one is dead-lettered).
          headers: { ...valid, 'ce-id': 1234567890123456, 'ce-specversion': 1.0, 'x-nested': { deep: [1, 2] }, 'x-null': null, ['__proto__']: 'x' },
          body: new TextEncoder().encode('{"n": 1, "case": "non-string headers"}'),
        }),
        reasons: ['MAILROOM_ERR_ENVELOPE_INVALID'],
      },
    ],
  };
}
