import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVICE_NAMES, type ServiceName } from '../src/service-names.js';
import { LogPrefixer } from '../src/supervisor/log-prefixer.js';
import { Supervisor } from '../src/supervisor/supervisor.js';

const dir = mkdtempSync(join(tmpdir(), 'shop-supervisor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A service that says it is ready and exits at once on SIGINT or SIGTERM; the gateway takes a while to stop, as a real one may.
const quick = join(dir, 'quick.mjs');
writeFileSync(
  quick,
  "process.send({ type: 'ready' }); for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(0)); setInterval(() => {}, 1000);\n",
);
const slow = join(dir, 'slow.mjs');
writeFileSync(slow, "process.send({ type: 'ready' }); process.on('SIGTERM', () => setTimeout(() => process.exit(0), 500)); setInterval(() => {}, 1000);\n");

// A service that cannot start until a setting changes: it says why, then exits with code 78.
const refused = join(dir, 'refused.mjs');
writeFileSync(refused, "process.send({ type: 'cannot-start', message: 'wrong password (MAILROOM_ERR_X)' }, () => process.exit(78));\n");
const crashing = join(dir, 'crashing.mjs');
writeFileSync(crashing, 'process.exit(1);\n');

describe('the shop supervisor', () => {
  it('does not restart a service that cannot start, and reports its message once; a crash is restarted', async () => {
    const out = new PassThrough();
    let logs = '';
    out.setEncoding('utf8').on('data', (chunk: string) => (logs += chunk));
    const reports: [string, string][] = [];
    const supervisor = new Supervisor({
      scriptOf: (service: ServiceName) => (service === 'payments' ? refused : service === 'shipping' ? crashing : quick),
      execArgv: [],
      workers: Object.fromEntries(SERVICE_NAMES.map((name) => [name, 1])) as Record<ServiceName, number>,
      envOf: () => ({ ...process.env }),
      logs: new LogPrefixer(14, false, out),
      restartDelayMs: 10,
      faults: { poison: false },
      onCannotStart: (label, message) => reports.push([label, message]),
    });
    void supervisor.start(['payments', 'shipping']);
    const deadline = Date.now() + 20_000;
    const shippingRestarts = () => supervisor.status().services.find((s) => s.name === 'shipping')?.workers[0]?.restarts ?? 0;
    while ((reports.length === 0 || shippingRestarts() < 2) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await supervisor.stop();
    expect(reports).toEqual([['payments', 'wrong password (MAILROOM_ERR_X)']]);
    expect(logs).toContain('payments cannot start: wrong password (MAILROOM_ERR_X)');
    const payments = supervisor.status().services.find((s) => s.name === 'payments')?.workers[0];
    expect([payments?.state, payments?.restarts]).toEqual(['stopped', 0]);
    expect(shippingRestarts()).toBeGreaterThanOrEqual(2);
  });

  it('restarts nothing when its services exit by themselves while it stops them (Ctrl-C signals the whole process group)', async () => {
    const out = new PassThrough();
    let logs = '';
    out.setEncoding('utf8').on('data', (chunk: string) => (logs += chunk));
    const supervisor = new Supervisor({
      scriptOf: (service: ServiceName) => (service === 'gateway' ? slow : quick),
      execArgv: [],
      workers: Object.fromEntries(SERVICE_NAMES.map((name) => [name, 1])) as Record<ServiceName, number>,
      envOf: () => ({ ...process.env }),
      logs: new LogPrefixer(14, false, out),
      restartDelayMs: 10,
      faults: { poison: false },
    });
    await supervisor.start();
    const pids = supervisor.status().services.flatMap((s) => (s.name === 'gateway' ? [] : s.workers.map((w) => w.pid as number)));
    const stopping = supervisor.stop();
    for (const pid of pids) process.kill(pid, 'SIGINT');
    await stopping;
    expect(logs).not.toContain('exited unexpectedly');
    const workers = supervisor.status().services.flatMap((s) => s.workers);
    expect(workers.map((w) => [w.state, w.restarts])).toEqual(workers.map(() => ['stopped', 0]));
  });
});
