// Client CPU per GET and req/s of the resilient HTTP client next to raw undici, as the bench's `http`
// scenario drives it (GET of a small JSON document from the bench's Fastify upstream in a child
// process, 32 calls in flight, body parsed), with the CPU this process used per call (process.cpuUsage).
// Usage (after `npm run build`, bench included):
//   node scripts/http-client-probe.mjs [--count 20000] [--rounds 5] [variant...]
// A variant is `raw` (undici.request, as the bench's baseline), `raw+signal` (the same with one
// AbortController and one setTimeout per call, the signal passed to undici), `raw-dispatch` (the
// global dispatcher's dispatch() with a handler buffering the body: the floor of a buffered call),
// `mailroom` (the built @mailroom/http with its defaults) or a directory holding another build of
// @mailroom/http (e.g. a copy of packages/http/dist made before a change, kept inside the repository
// so its imports resolve). Rounds alternate the variants (A B A B ..., reversed every other round)
// after one warm-up round; the medians are printed at the end. Default variants: raw raw+signal mailroom.
// For a profile: node --cpu-prof scripts/http-client-probe.mjs mailroom
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { runWindowed } from '@mailroom/bench/dist/load-drivers.js';
import { getGlobalDispatcher, request } from 'undici';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { count: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '5' } },
});
const count = Number(values.count);
const rounds = Number(values.rounds);
const variants = positionals.length > 0 ? positionals : ['raw', 'raw+signal', 'mailroom'];
const CONCURRENCY = 32;

const upstreamScript = createRequire(import.meta.url).resolve('@mailroom/bench/dist/http-upstream.js');
const child = fork(upstreamScript, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const [{ port }] = await once(child, 'message');
const base = `http://127.0.0.1:${port}`;
const url = `${base}/item`;

async function rawGet() {
  const { statusCode, body } = await request(url);
  if (statusCode !== 200) throw new Error(`GET answered ${statusCode}`);
  return body.json();
}

async function rawSignalGet() {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 5000);
  try {
    const { statusCode, body } = await request(url, { signal: controller.signal });
    if (statusCode !== 200) throw new Error(`GET answered ${statusCode}`);
    return await body.json();
  } finally {
    clearTimeout(timer);
  }
}

function rawDispatchGet() {
  return new Promise((resolvePromise, reject) => {
    const chunks = [];
    let status = 0;
    getGlobalDispatcher().dispatch(
      { origin: base, path: '/item', method: 'GET' },
      {
        // undici takes a handler for the controller API only when it has onRequestStart.
        onRequestStart: () => undefined,
        onResponseStart: (_controller, statusCode) => {
          status = statusCode;
        },
        onResponseData: (_controller, chunk) => {
          chunks.push(chunk);
        },
        onResponseEnd: () =>
          status === 200 ? resolvePromise(JSON.parse(Buffer.concat(chunks).toString('utf8'))) : reject(new Error(`GET answered ${status}`)),
        onResponseError: (_controller, error) => reject(error),
      },
    );
  });
}

async function mailroomGet(modulePath) {
  const { createHttpClient } = await import(modulePath);
  const client = createHttpClient({ name: 'upstream', baseUrl: base });
  return () => client.json({ path: '/item' });
}

async function contender(variant) {
  if (variant === 'raw') return rawGet;
  if (variant === 'raw+signal') return rawSignalGet;
  if (variant === 'raw-dispatch') return rawDispatchGet;
  if (variant === 'mailroom') return mailroomGet('@mailroom/http');
  return mailroomGet(pathToFileURL(resolve(variant, 'index.js')).href);
}

async function measure(call) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await runWindowed(count, CONCURRENCY, call);
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { perSecond: count / (ms / 1000), cpuUsPerCall: (used.user + used.system) / count };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const calls = [];
for (const variant of variants) calls.push({ name: variant, call: await contender(variant) });
const results = new Map(calls.map((c) => [c.name, []]));
try {
  for (let round = 0; round <= rounds; round++) {
    for (const c of round % 2 ? calls : [...calls].reverse()) {
      const r = await measure(c.call);
      console.log(`round ${round}${round === 0 ? ' (warm-up)' : ''} ${c.name}: ${Math.round(r.perSecond)} req/s, ${r.cpuUsPerCall.toFixed(1)} µs CPU/call`);
      if (round > 0) results.get(c.name).push(r);
    }
  }
} finally {
  child.disconnect();
  await once(child, 'exit').catch(() => undefined);
}
const rawResults = results.get('raw');
for (const [name, rs] of results) {
  const perSecond = median(rs.map((r) => r.perSecond));
  const ratio = rawResults ? ` (${(perSecond / median(rawResults.map((r) => r.perSecond))).toFixed(2)}x raw)` : '';
  console.log(
    `median ${name} (${count} GETs x ${rs.length}, ${CONCURRENCY} in flight): ${Math.round(perSecond)} req/s${ratio}, ${median(rs.map((r) => r.cpuUsPerCall)).toFixed(1)} µs CPU/call`,
  );
}
