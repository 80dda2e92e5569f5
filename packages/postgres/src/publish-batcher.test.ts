import { Services, serviceAvailable, uniqueName } from '@mailroom/conformance';
import { HeaderNames, type OutgoingMessage } from '@mailroom/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPool } from '../test/pg-fixture.js';
import type { MessageColumns } from './message-columns.js';
import { PublishBatcher } from './publish-batcher.js';

const available = await serviceAvailable(Services.postgres);

function message(type: string): OutgoingMessage {
  return { route: { kind: 'event', type }, headers: { [HeaderNames.id]: type }, body: new Uint8Array([1]) };
}

describe.runIf(available)('PublishBatcher', () => {
  let pool: pg.Pool;
  const table = uniqueName('publish_batcher').replaceAll('-', '_');
  beforeAll(async () => {
    pool = testPool(4);
    // The database refuses a row whose type starts with `bad`: a refusal of the statement, not of the connection.
    await pool.query(`CREATE TABLE ${table} (type text NOT NULL CHECK (type NOT LIKE 'bad%'))`);
  });
  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS ${table}`);
    await pool.end();
  });

  /** A batcher inserting the types of each batch in one statement; `statements` counts the statements sent. */
  function batcherOn(target: pg.Pool) {
    const counter = { statements: 0 };
    const batcher = new PublishBatcher(async (columns: MessageColumns) => {
      counter.statements++;
      await target.query(`INSERT INTO ${table} (type) SELECT unnest($1::text[])`, [columns[1]]);
    });
    return { batcher, counter };
  }

  it('retries a refused batch one message per statement, so only the refused message rejects', async () => {
    const { batcher, counter } = batcherOn(pool);
    const prefix = uniqueName('ok');
    const types = [`${prefix}-1`, `${prefix}-2`, 'bad-one', `${prefix}-3`];
    const outcomes = await Promise.allSettled(types.map((type) => batcher.publish(message(type))));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(String((outcomes[2] as PromiseRejectedResult).reason)).toMatch(/check constraint/);
    // One batch statement (refused), then one statement per message.
    expect(counter.statements).toBe(1 + types.length);
    const { rows } = await pool.query<{ type: string }>(`SELECT type FROM ${table} WHERE type LIKE $1 ORDER BY type`, [`${prefix}-%`]);
    expect(rows.map((row) => row.type)).toEqual([`${prefix}-1`, `${prefix}-2`, `${prefix}-3`]);
  });

  it('rejects every publish of a batch that failed on the connection, without retrying one by one', async () => {
    const nowhere = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/test', connectionTimeoutMillis: 2_000 });
    nowhere.on('error', () => undefined);
    try {
      const { batcher, counter } = batcherOn(nowhere);
      const outcomes = await Promise.allSettled(['a', 'b', 'c'].map((type) => batcher.publish(message(uniqueName(type)))));
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected']);
      for (const outcome of outcomes) expect((outcome as PromiseRejectedResult).reason).toMatchObject({ code: 'ECONNREFUSED' });
      expect(counter.statements).toBe(1);
    } finally {
      await nowhere.end();
    }
  });
});
