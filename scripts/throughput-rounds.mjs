// The measuring half of the throughput probes (rabbitmq-throughput.mjs, nats-throughput.mjs): runs
// `count` messages through each contender (publisher and consumer in this process, `window`
// publishes in flight), in alternating rounds (A B, B A, ...) after one warm-up round each, and
// prints per round and as medians: msg/s, this process's CPU per message (process.cpuUsage), the
// time in garbage collection per message (`gc` performance entries), the broker's CPU per message
// when `brokerPid` is set (from /proc), and with --expose-gc the heap left after each round
// (collected garbage excluded: what grows round after round is kept per message).
import { readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { benchMessage } from '@mailroom/bench/dist/bench-message.js';
import { runWindowed } from '@mailroom/bench/dist/load-drivers.js';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** Runs the rounds over started-on-demand `contenders` ({ name, start(deliver), publish(message), stop() }), stopping them at the end. */
export async function runThroughputRounds({ contenders, count, rounds, window = 128, brokerPid, brokerLabel = 'broker', label }) {
  const brokerCpuUs = () => {
    if (!brokerPid) return 0;
    const fields = readFileSync(`/proc/${brokerPid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime + stime, in clock ticks of 10 ms
  };
  let gcMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  });
  observer.observe({ entryTypes: ['gc'] });

  let current;
  const deliver = (message) => {
    const run = current;
    if (!run) return;
    const i = message.seq - run.base;
    if (i < 0 || i >= run.count || run.seen[i]) return;
    run.seen[i] = 1;
    if (++run.unique === run.count) run.done();
  };
  let nextSeq = 0;
  const throughput = async (c) => {
    const run = { base: nextSeq, count, seen: new Uint8Array(count), unique: 0, done: () => undefined };
    nextSeq += count;
    const delivered = new Promise((r) => {
      run.done = r;
    });
    current = run;
    globalThis.gc?.(); // with --expose-gc: no contender pays for the previous one's garbage
    const gcBefore = gcMs;
    const cpu = process.cpuUsage();
    const broker = brokerCpuUs();
    const started = performance.now();
    await runWindowed(count, window, (i) => c.publish(benchMessage(run.base + i)));
    await delivered;
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const brokerUsed = brokerCpuUs() - broker;
    current = undefined;
    await new Promise((r) => setImmediate(r)); // the gc entries of the round are reported
    const gcUsPerMessage = ((gcMs - gcBefore) * 1000) / count;
    globalThis.gc?.();
    const heapMb = process.memoryUsage().heapUsed / 1e6;
    return {
      perSecond: count / (ms / 1000),
      cpuUsPerMessage: (used.user + used.system) / count,
      brokerUsPerMessage: brokerUsed / count,
      gcUsPerMessage,
      heapMb,
    };
  };
  const brokerText = (us) => (brokerPid ? `, ${brokerLabel} ${us.toFixed(1)} µs/msg` : '');

  for (const c of contenders) await c.start(deliver);
  const results = new Map(contenders.map((c) => [c.name, []]));
  try {
    for (let round = 0; round <= rounds; round++) {
      for (const c of round % 2 ? contenders : [...contenders].reverse()) {
        const r = await throughput(c);
        console.log(
          `round ${round}${round === 0 ? ' (warm-up)' : ''} ${c.name}: ${Math.round(r.perSecond)} msg/s, ${r.cpuUsPerMessage.toFixed(1)} µs CPU/msg (GC ${r.gcUsPerMessage.toFixed(1)})${brokerText(r.brokerUsPerMessage)}${globalThis.gc ? `, heap after ${r.heapMb.toFixed(1)} MB` : ''} (load ${load()})`,
        );
        if (round > 0) results.get(c.name).push(r);
      }
    }
  } finally {
    for (const c of contenders) await c.stop().catch((error) => console.error(`stopping ${c.name}: ${error}`));
    observer.disconnect();
  }
  for (const [name, rs] of results) {
    const of = (field) => median(rs.map((r) => r[field]));
    console.log(
      `median ${name} (${label ? `${label}, ` : ''}${count} msgs x ${rs.length}): ${Math.round(of('perSecond'))} msg/s, ${of('cpuUsPerMessage').toFixed(1)} µs CPU/msg (GC ${of('gcUsPerMessage').toFixed(1)})${brokerText(of('brokerUsPerMessage'))}`,
    );
  }
}
