import { createHttpClient, type HttpClient, isHttpError } from '@mailroom/http';
import { request } from 'undici';
import { interleave } from '../interleave.js';
import { runWindowed } from '../load-drivers.js';
import { Recorder } from '../recorder.js';
import type { Scenario } from '../scenario.js';
import { significant } from '../stats.js';
import { measureFailures, startUpstream, stopUpstream, timeFailures } from '../upstream.js';
import { packageVersions } from '../versions.js';

const CONCURRENCY = 32;
const RAW = 'raw undici.request';
const MAILROOM = 'mailroom client';

async function rawGet(url: string): Promise<unknown> {
  const { statusCode, body } = await request(url);
  if (statusCode !== 200) {
    await body.dump();
    throw new Error(`GET ${url} answered ${statusCode}`);
  }
  return body.json();
}

/** Scenario 5: the resilient HTTP client vs raw undici against a local Fastify server. */
export const httpScenario: Scenario = {
  name: 'http',
  title: 'HTTP: the resilient client vs raw undici.request',
  description:
    `GET of a small JSON document from a Fastify server in a child process, ${CONCURRENCY} calls in flight, body parsed. ` +
    'The Mailroom client runs with its defaults (timeout 5 s, retry 2 with backoff, consecutive-failure breaker, bulkhead 64) on the same global undici dispatcher. ' +
    'Fail-fast: with the breaker open (tripped by 5 calls answered 503), the time one call takes to fail, next to a raw call to the failing route.',
  async run(context) {
    const recorder = new Recorder();
    const count = context.size(20_000, 500);
    const failures = context.size(2000, 100);
    const upstream = await startUpstream('./http-upstream.js');
    const base = upstream.url;
    const logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => logger };
    const client: HttpClient = createHttpClient({ name: 'upstream', baseUrl: base });
    const calls: Record<string, () => Promise<unknown>> = {
      [RAW]: () => rawGet(`${base}/item`),
      [MAILROOM]: () => client.json({ path: '/item' }),
    };
    try {
      await interleave(Object.keys(calls), context.rounds, context.warmup, async (name, measured) => {
        const call = calls[name] as () => Promise<unknown>;
        const started = performance.now();
        await runWindowed(count, CONCURRENCY, call);
        const perSecond = count / ((performance.now() - started) / 1000);
        context.log(`${name}: ${Math.round(perSecond)} req/s${measured ? '' : ' (warm-up)'}`);
        if (measured) recorder.add('GET /item', name, 'throughput', 'req/s', 'higher', significant(perSecond));
      });
      recorder.compare('GET /item', 'throughput', MAILROOM, RAW, { op: '>=', value: 0.9 });

      const breaking = createHttpClient({
        name: 'failing',
        baseUrl: base,
        retry: false,
        breaker: { consecutiveFailures: 5, halfOpenAfterMs: 600_000 },
        logger,
      });
      await timeFailures(5, () => breaking.request({ path: '/fail' }));
      if (breaking.breakerState !== 'open') throw new Error(`the breaker is ${breaking.breakerState} after 5 failures`);
      const failing: Record<string, () => Promise<unknown>> = {
        'mailroom, breaker open': () =>
          breaking.request({ path: '/fail' }).catch((error: unknown) => {
            if (!isHttpError(error) || !error.breakerOpen) throw new Error(`expected a breaker-open error, got ${String(error)}`);
            throw error;
          }),
        'raw undici, 503 upstream': () => rawGet(`${base}/fail`),
      };
      await measureFailures(failing, failures, context, recorder);
      if (breaking.breakerState !== 'open') throw new Error('the breaker closed during the fail-fast measurement');
    } finally {
      await stopUpstream(upstream);
    }
    return {
      versions: packageVersions(['undici', 'fastify', 'cockatiel', '@mailroom/http']),
      settings: { count, concurrency: CONCURRENCY, failureCalls: failures, client: 'defaults', dispatcher: 'undici global dispatcher' },
      recorder,
      notes: [],
    };
  },
};
