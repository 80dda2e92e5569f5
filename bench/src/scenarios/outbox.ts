import { setTimeout as sleep } from 'node:timers/promises';
import { createEndpoint, createRelay, type Endpoint, resolveRelaySettings } from '@mailroom/core';
import { createRabbitMqTransport, type RabbitMqTransport } from '@mailroom/rabbitmq';
import { BenchEvent, benchMessage } from '../bench-message.js';
import { amqplib, onThrowawayChannel, RABBITMQ_URL, type RawAmqpChannel } from '../contenders/amqplib-client.js';
import { deleteRabbitMqNamespace } from '../contenders/mailroom-rabbitmq.js';
import type { OutboxFixture } from '../contenders/outbox-fixture.js';
import { postgresOutbox } from '../contenders/postgres-outbox.js';
import { rabbitMqVersions } from '../contenders/rabbitmq-versions.js';
import { rawConfirmPublisher } from '../contenders/raw-amqplib.js';
import { sqliteOutbox } from '../contenders/sqlite-outbox.js';
import { interleave } from '../interleave.js';
import { LatencyHistogram } from '../latency-histogram.js';
import { runWindowed } from '../load-drivers.js';
import { Recorder } from '../recorder.js';
import type { Scenario, ScenarioContext } from '../scenario.js';
import { significant } from '../stats.js';
import { uniqueName } from '../unique-name.js';
import { packageVersions } from '../versions.js';

const CONCURRENCY = 8;
const BARE = 'bare insert (transaction)';
const OUTBOX = 'insert + outbox (mailroom)';
const AUTOCOMMIT = 'bare insert (autocommit)';
const IDLE_GAP_MS = 20;
const RAW_PUBLISH = 'raw amqplib, confirm channel';
const PUBLISH_GROUP = 'rabbitmq publish';
/** The relay's default `publishConcurrency`: the most publishes it has awaiting their confirm. */
const RELAY_IN_FLIGHT = resolveRelaySettings().publishConcurrency;

type Writer = (fixture: OutboxFixture, seq: number) => Promise<void>;
const writers: Record<string, Writer> = {
  [BARE]: (f, seq) => f.bareInsert(seq),
  [OUTBOX]: (f, seq) => f.insertWithOutbox(seq),
  [AUTOCOMMIT]: (f, seq) => f.autocommitInsert(seq),
};

async function insertPhase(context: ScenarioContext, recorder: Recorder, fixture: OutboxFixture, count: number): Promise<void> {
  let seq = 0;
  await interleave(Object.keys(writers), context.rounds, context.warmup, async (name, measured) => {
    const write = writers[name] as Writer;
    const started = performance.now();
    await runWindowed(count, CONCURRENCY, () => write(fixture, seq++));
    const micros = ((performance.now() - started) * 1000) / count;
    await fixture.clear();
    context.log(`${fixture.name}: ${name} ${micros.toFixed(0)} µs per insert${measured ? '' : ' (warm-up)'}`);
    if (measured) {
      recorder.add(`${fixture.name} insert`, name, 'time per insert', 'µs', 'lower', significant(micros));
      // The same round as a rate, for the relay's target (relay >= 0.7x min(raw insert, raw confirmed publish)).
      if (name === BARE) recorder.add(`${fixture.name} insert`, name, 'throughput', 'msg/s', 'higher', significant(1e6 / micros));
    }
  });
  // Issue 16's targets: at most 1.2x a bare insert on PostgreSQL, 2x on SQLite.
  recorder.compare(`${fixture.name} insert`, 'time per insert', OUTBOX, BARE, { op: '<=', value: fixture.name === 'sqlite' ? 2 : 1.2 });
  recorder.compare(`${fixture.name} insert`, 'time per insert', OUTBOX, AUTOCOMMIT);
}

async function relayPhase(context: ScenarioContext, recorder: Recorder, fixtures: OutboxFixture[], transport: RabbitMqTransport, count: number) {
  const sink = `${transport.topology.events}.relay-sink`;
  const connection = await amqplib.connect(RABBITMQ_URL, { noDelay: true });
  const channel = (await connection.createChannel()) as RawAmqpChannel;
  await channel.assertExchange(transport.topology.events, 'topic', { durable: true });
  await channel.assertQueue(sink, { durable: true, arguments: { 'x-queue-type': 'classic' } });
  await channel.bindQueue(sink, transport.topology.events, BenchEvent.type);
  // The raw baseline publishes to the same exchange and queue as the relay, as many at once as the relay can have.
  const rawPublish = rawConfirmPublisher(await connection.createConfirmChannel(), transport.topology.events, false);
  try {
    const byName = new Map(fixtures.map((f) => [f.name, f]));
    await interleave([...byName.keys(), RAW_PUBLISH], context.rounds, context.warmup, async (name, measured) => {
      const fixture = byName.get(name);
      let perSecond: number;
      if (fixture) {
        await fixture.prefillOutbox(count, 100);
        const relay = createRelay({ store: fixture.outbox, transport });
        const started = performance.now();
        relay.start();
        while (relay.stats.sent < count) await sleep(2);
        perSecond = count / ((performance.now() - started) / 1000);
        await relay.stop();
        await fixture.clear();
      } else {
        const started = performance.now();
        await runWindowed(count, RELAY_IN_FLIGHT, (seq) => rawPublish(benchMessage(seq)));
        perSecond = count / ((performance.now() - started) / 1000);
      }
      await channel.purgeQueue(sink);
      context.log(`${name}: ${fixture ? 'relay' : 'publish'} ${Math.round(perSecond)} msg/s${measured ? '' : ' (warm-up)'}`);
      if (!measured) return;
      if (fixture) recorder.add(`${name} relay`, 'mailroom relay', 'throughput', 'msg/s', 'higher', significant(perSecond));
      else recorder.add(PUBLISH_GROUP, RAW_PUBLISH, 'throughput', 'msg/s', 'higher', significant(perSecond));
    });
  } finally {
    await onThrowawayChannel(connection, (ch) => ch.deleteQueue(sink));
    await connection.close().catch(() => undefined);
  }
  // Issue 16's target: the relay keeps at least 0.7x the pace of the slower of the two it joins (the database's inserts, the broker's confirms).
  for (const fixture of fixtures) {
    recorder.compareToLeast(
      `${fixture.name} relay`,
      'throughput',
      'mailroom relay',
      [
        { group: `${fixture.name} insert`, contender: BARE },
        { group: PUBLISH_GROUP, contender: RAW_PUBLISH },
      ],
      { op: '>=', value: 0.7 },
    );
  }
}

async function latencyPhase(context: ScenarioContext, recorder: Recorder, fixtures: OutboxFixture[], transport: RabbitMqTransport, samples: number) {
  const waiting = new Map<number, (at: number) => void>();
  const consumer = createEndpoint({ name: `${transport.topology.events.split('.')[0]}-consumer`, transport });
  consumer.on(BenchEvent, (message) => waiting.get(message.seq)?.(performance.now()));
  await consumer.start();
  const writers = new Map<string, Endpoint<any>>();
  for (const fixture of fixtures) {
    const endpoint = fixture.relayingEndpoint(`bench-${fixture.name}-writer`, transport);
    await endpoint.start();
    writers.set(fixture.name, endpoint);
  }
  let seq = 0;
  try {
    await interleave([...writers.keys()], context.rounds, context.warmup, async (name, measured) => {
      const endpoint = writers.get(name) as Endpoint<any>;
      const histogram = new LatencyHistogram();
      for (let i = 0; i < samples; i++) {
        const mine = seq++;
        const delivered = new Promise<number>((resolve) => waiting.set(mine, resolve));
        await endpoint.transaction(async ({ publish }) => {
          await publish(BenchEvent, benchMessage(mine));
        });
        const committedAt = performance.now();
        const deliveredAt = await Promise.race([delivered, sleep(10_000).then(() => Number.NaN)]);
        waiting.delete(mine);
        if (Number.isNaN(deliveredAt)) throw new Error(`${name}: outbox message ${mine} was not delivered within 10 s`);
        histogram.recordMs(deliveredAt - committedAt);
        await sleep(IDLE_GAP_MS);
      }
      context.log(`${name}: commit -> delivery p50 ${histogram.percentileMs(50).toFixed(2)} ms p99 ${histogram.percentileMs(99).toFixed(2)} ms`);
      if (measured) {
        recorder.add(`${name} idle latency`, 'mailroom relay', 'commit -> handler p50', 'ms', 'lower', significant(histogram.percentileMs(50)));
        recorder.add(`${name} idle latency`, 'mailroom relay', 'commit -> handler p99', 'ms', 'lower', significant(histogram.percentileMs(99)));
      }
    });
    // Issue 16's target, an absolute one: commit -> delivery p50 <= 10 ms on an idle endpoint.
    for (const name of writers.keys()) recorder.bound(`${name} idle latency`, 'commit -> handler p50', 'mailroom relay', { op: '<=', value: 10 });
  } finally {
    await consumer.stop();
  }
}

/** Scenario 4: the transactional outbox on PostgreSQL and SQLite. */
export const outboxScenario: Scenario = {
  name: 'outbox',
  title: 'Outbox: insert cost, relay throughput, commit -> delivery latency',
  description:
    `Insert: ${CONCURRENCY} concurrent writers insert one order row per transaction; "bare insert (transaction)" is BEGIN, INSERT, COMMIT written by hand, ` +
    '"insert + outbox" is the same insert through `endpoint.transaction` with one 1 KiB event published in it (validated, enveloped, written to the outbox; relay off), ' +
    '"autocommit" is the INSERT alone. Relay: the outbox is filled with committed messages, then a relay with the default settings publishes them to RabbitMQ ' +
    '(classic queue, confirms) and marks them sent; messages per second until the last is marked. Its target is 0.7x the slower of ' +
    '"raw insert", the bare insert (transaction) above as a rate (the pace at which this database takes rows by hand, the baseline of the insert target too; ' +
    'the business row rather than an outbox-sized one, since per-transaction insert cost is the commit, and it is the insert the application makes) and ' +
    `"raw amqplib, confirm channel": the same 1 KiB persistent messages published by hand on a confirm channel to the relay's exchange and queue, ` +
    `${RELAY_IN_FLIGHT} awaiting their confirm at once (the relay's publishConcurrency), run interleaved with the relays. Latency: one message per transaction every ${IDLE_GAP_MS} ms on an otherwise idle ` +
    "endpoint (relay woken by the commit), from the resolved transaction to the RabbitMQ consumer's handler.",
  async run(context) {
    const recorder = new Recorder();
    const insertCount = context.size(3000, 100);
    const relayCount = context.size(5000, 200);
    const samples = context.size(100, 20);
    const namespace = uniqueName('bench-outbox');
    const fixtures = [await postgresOutbox(namespace.replace(/-/g, '_'), CONCURRENCY), await sqliteOutbox()];
    const transport = await createRabbitMqTransport({ url: RABBITMQ_URL, namespace, queueType: 'classic' });
    const versions: Record<string, string> = {};
    try {
      for (const fixture of fixtures) versions[fixture.name] = await fixture.version();
      for (const fixture of fixtures) await insertPhase(context, recorder, fixture, insertCount);
      await relayPhase(context, recorder, fixtures, transport, relayCount);
      await latencyPhase(context, recorder, fixtures, transport, samples);
    } finally {
      for (const fixture of fixtures) await fixture.close().catch((error: unknown) => context.log(`closing ${fixture.name} failed: ${String(error)}`));
      await transport.close();
      await deleteRabbitMqNamespace(namespace, [`${namespace}-consumer`]);
    }
    return {
      versions: {
        ...versions,
        ...(await rabbitMqVersions()),
        ...packageVersions(['pg', 'better-sqlite3', '@mailroom/postgres', '@mailroom/sqlite']),
      },
      settings: {
        insertCount,
        concurrency: CONCURRENCY,
        relayCount,
        relay: 'defaults (batchSize 100, publishConcurrency 16)',
        rawPublishInFlight: RELAY_IN_FLIGHT,
        latencySamples: samples,
        idleGapMs: IDLE_GAP_MS,
      },
      recorder,
      notes: [],
    };
  },
};
