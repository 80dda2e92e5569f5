import { Services, serviceAvailable, sleep, testMessage, uniqueName, waitUntil } from '@mailroom/conformance';
import {
  connectTransport,
  createEndpoint,
  type Delivery,
  defineEvent,
  ErrorCodes,
  HeaderNames,
  isMailroomError,
  type Transport,
  UnrecoverableError,
} from '@mailroom/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  BROKER_SCHEMA_VERSION,
  createPostgresTransport,
  migrateBroker,
  PostgresErrorCodes,
  type PostgresTransport,
  parsePostgresUrl,
  postgresBrokerTables,
} from '../src/index.js';
import { POSTGRES_URL, testPool, uniqueSchema } from './pg-fixture.js';

const available = await serviceAvailable(Services.postgres);
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe.runIf(available)('PostgreSQL transport', () => {
  const schema = uniqueSchema();
  const pool = testPool(4);
  const transports: Transport[] = [];
  const open = async (options: { pollIntervalMs?: number; leaseMs?: number } = {}) => {
    const transport = await createPostgresTransport({ connectionString: POSTGRES_URL, schema, poolSize: 3, ...options });
    transports.push(transport);
    return transport;
  };
  beforeAll(async () => {
    await open();
  });
  afterAll(async () => {
    await Promise.all(transports.map((transport) => transport.close()));
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  it('connects through connectTransport from postgres:// and postgresql:// URLs, options in the query', async () => {
    const url = new URL(POSTGRES_URL);
    url.searchParams.set('schema', schema);
    url.searchParams.set('leaseMs', '4000');
    for (const scheme of ['postgres:', 'postgresql:']) {
      url.protocol = scheme;
      const transport = (await connectTransport(url.toString())) as PostgresTransport;
      transports.push(transport);
      expect(transport.name).toBe('postgres');
      expect(transport.tables.messages).toBe(`${schema}.mailroom_messages`);
    }
    expect(parsePostgresUrl('postgres://u:pw@db.example:5433/app?tablePrefix=mq_&poolSize=3&sslmode=require')).toEqual({
      connectionString: 'postgres://u:pw@db.example:5433/app?sslmode=require',
      options: { tablePrefix: 'mq_', poolSize: 3 },
    });
    expect(() => parsePostgresUrl('postgres://')).toThrow(/no host/);
    await expect(connectTransport('postgres://u:pw@localhost:5432/x?leaseMs=soon')).rejects.toSatisfy((e) => isMailroomError(e, ErrorCodes.TRANSPORT_CONFIG));
  });

  it('fails fast with typed errors: bad names, bad numbers, an unreachable server (password never shown), newer tables', async () => {
    for (const bad of [{ schema: 'Robert"; DROP' }, { tablePrefix: 'no spaces' }, { leaseMs: 0 }, { pollIntervalMs: Number.NaN }, { poolSize: -1 }]) {
      await expect(createPostgresTransport({ connectionString: POSTGRES_URL, ...bad }), JSON.stringify(bad)).rejects.toSatisfy((e) =>
        isMailroomError(e, ErrorCodes.TRANSPORT_CONFIG),
      );
    }
    await expect(createPostgresTransport({} as never)).rejects.toThrow(/give \{ pool \}/);
    const failure = await createPostgresTransport({ connectionString: 'postgres://mailroom:s3cret-password@127.0.0.1:1/test' }).catch((e: unknown) => e);
    expect(isMailroomError(failure, ErrorCodes.TRANSPORT_UNAVAILABLE), String(failure)).toBe(true);
    expect(String((failure as Error).message)).not.toContain('s3cret-password');

    const newer = uniqueSchema();
    const tables = postgresBrokerTables({ schema: newer });
    try {
      await Promise.all([migrateBroker(pool, tables), migrateBroker(pool, tables)]);
      const ids = new Set([await migrateBroker(pool, tables), await migrateBroker(pool, tables)]);
      expect(ids.size).toBe(1);
      await pool.query(`INSERT INTO ${tables.migrations} (version) VALUES (${BROKER_SCHEMA_VERSION + 1})`);
      await expect(createPostgresTransport({ pool, schema: newer })).rejects.toSatisfy(
        (e) => isMailroomError(e, PostgresErrorCodes.POSTGRES_BROKER_SCHEMA) && /newer/.test(String(e)),
      );
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS ${newer} CASCADE`);
    }
  });

  it('stores dead letters whose error texts and ids hold NUL characters (PostgreSQL text cannot), with U+FFFD in their place', async () => {
    const transport = await open();
    const Nul = defineEvent(uniqueName('NulRefused'), { version: 1, schema: z.object({ n: z.number() }) });
    const name = uniqueName('nul');
    const endpoint = createEndpoint({ name, transport });
    endpoint.on(Nul, () => {
      throw new UnrecoverableError('refused \u0000 here');
    });
    await endpoint.start();
    try {
      await endpoint.publish(Nul, { n: 1 }, { id: 'id-with-\u0000-nul' });
      let letters = await transport.deadLetters.list({ endpoint: name });
      for (const deadline = Date.now() + 10_000; letters.length === 0 && Date.now() < deadline; await sleep(25))
        letters = await transport.deadLetters.list({ endpoint: name });
      expect(letters[0]?.errorMessage).toBe('refused \uFFFD here');
      expect(letters[0]?.headers[HeaderNames.id]).toBe('id-with-\u0000-nul');
      expect(letters[0]?.messageId).toBe('id-with-\uFFFD-nul');
    } finally {
      await endpoint.stop({ timeoutMs: 100 });
    }
  });

  it('parks a row whose attempt column is at the integer maximum instead of failing its claim for ever', async () => {
    const transport = await open();
    const name = uniqueName('maxint');
    const type = uniqueName('Overflowing');
    const good: string[] = [];
    await transport.subscribe({ endpoint: name, events: [], commands: [type], concurrency: 4 }, async (d) => {
      good.push(d.headers[HeaderNames.id] as string);
      await d.ack();
    });
    const message = testMessage(type, json({ n: 1 }), {}, name);
    await pool.query(`INSERT INTO ${schema}.mailroom_messages (endpoint, headers, body, attempt) VALUES ($1, $2, $3, 2147483647)`, [
      name,
      JSON.stringify(message.headers),
      Buffer.from(message.body),
    ]);
    const after = testMessage(type, json({ n: 2 }), {}, name);
    await transport.publish(after);
    await waitUntil(async () => (await transport.deadLetters.list({ endpoint: name })).length === 1, 10_000);
    const [letter] = await transport.deadLetters.list({ endpoint: name });
    expect(letter?.reason).toBe(ErrorCodes.TRANSPORT_DELIVERY_LIMIT);
    expect(letter?.attempts).toBe(2147483647);
    await waitUntil(() => good.length === 1, 10_000);
    expect(good).toEqual([after.headers[HeaderNames.id]]);
  });

  it('wakes consumers in another connection by NOTIFY, long before their poll, and again after its listening connection was killed', async () => {
    const consumer = await open({ pollIntervalMs: 600_000 });
    const publisher = await open({ pollIntervalMs: 600_000 });
    const name = uniqueName('notified');
    const type = uniqueName('Notified');
    const got: Delivery[] = [];
    await consumer.subscribe({ endpoint: name, events: [type], commands: [], concurrency: 4 }, async (d) => {
      got.push(d);
      await d.ack();
    });
    await publisher.publish(testMessage(type, json({ n: 1 })));
    // The consumer claimed once at start and polls only every 10 minutes: only a NOTIFY brings this one.
    await waitUntil(() => got.length === 1, 20_000);
    const { rows } = await pool.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE query = $1 AND application_name = 'mailroom-transport'`, [
      `LISTEN "${(consumer as PostgresTransport).tables.channel}"`,
    ]);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    await pool.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [rows.map((row) => row.pid)]);
    // The listener reconnects (100 ms backoff) and claims once reconnected; then NOTIFY works again.
    await sleep(1000);
    await publisher.publish(testMessage(type, json({ n: 2 })));
    await waitUntil(() => got.length === 2, 20_000);
  });

  it('reports depth, in-flight deliveries, live consumers and dead letters per queue', async () => {
    const transport = await open();
    const name = uniqueName('counted');
    const type = uniqueName('Counted');
    const held: Delivery[] = [];
    await transport.subscribe({ endpoint: name, events: [type], commands: [], concurrency: 2 }, (d) => {
      held.push(d);
    });
    for (let i = 0; i < 5; i++) await transport.publish(testMessage(type, json({ i })));
    await waitUntil(() => held.length === 2, 10_000);
    await held[0]?.deadLetter({ reason: ErrorCodes.HANDLER_FAILED, errorMessage: 'x', attempts: 1, firstFailureAt: new Date(), lastFailureAt: new Date() });
    await waitUntil(() => held.length === 3, 10_000);
    const info = (await transport.queues()).find((q) => q.endpoint === name);
    expect(info).toMatchObject({ depth: 4, inFlight: 2, consumers: 1, deadLetters: 1, events: [type] });
  });

  it('rejects publishing a command to a name that is not an endpoint, and anything after close, with typed errors', async () => {
    const transport = await open();
    await expect(transport.publish(testMessage('T', json({}), {}, 'Not An Endpoint'))).rejects.toSatisfy((e) => isMailroomError(e, ErrorCodes.ENDPOINT_CONFIG));
    await transport.close();
    await expect(transport.publish(testMessage('T', json({})))).rejects.toSatisfy((e) => isMailroomError(e, ErrorCodes.TRANSPORT_CLOSED));
    await expect(transport.queues()).rejects.toSatisfy((e) => isMailroomError(e, ErrorCodes.TRANSPORT_CLOSED));
  });
});
