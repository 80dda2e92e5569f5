import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Services, serviceAvailable, testMessage, uniqueName } from '@mailroom/conformance';
import { HeaderNames } from '@mailroom/core';
import { describe, expect, it } from 'vitest';
import { createRabbitMqTransport } from '../src/index.js';
import { brokerLock } from './broker-lock.js';
import { capturingLogger, deleteNamespace, RABBITMQ_URL, testNamespace } from './support.js';

const run = promisify(execFile);
const available = await serviceAvailable(Services.rabbitmq);
const hasRabbitmqctl = available && commandWorks('rabbitmqctl', ['version']);
if (available && !hasRabbitmqctl) console.warn('[mailroom] skipping the RabbitMQ restart test: rabbitmqctl is not on PATH (it restarts the broker)');

const TOTAL = 20_000;
const PUBLISH_CONCURRENCY = 200;
/** Messages per second the publisher aims at (it catches up after an outage). */
const RATE = 1000;
const root = join(import.meta.dirname, '..', '..', '..');

interface Restart {
  readonly at: number;
  /** Messages confirmed and handled when the restart began. */
  readonly confirmed: number;
  readonly handled: number;
  stoppedAt: number;
  upAt: number;
}

interface ProcessEvent {
  readonly who: string;
  readonly event: string;
  readonly at: number;
  readonly detail?: string | undefined;
}

// Disruptive: stops the shared broker twice. Vitest runs it after every other file, alone; the exclusive test lock also keeps
// out this package's files of another Vitest run.
describe.runIf(hasRabbitmqctl)('rabbitmq transport across broker restarts', () => {
  it(`handles every confirmed message of ${TOTAL} while the broker restarts at 1/3 and 1/2 of the messages (two consumer processes)`, async () => {
    const release = await brokerLock('exclusive');
    const namespace = testNamespace('restart');
    const endpoint = uniqueName('restart');
    const type = uniqueName('Restarted');
    const children: ChildProcess[] = [];
    const events: ProcessEvent[] = [];
    const handled = new Map<string, number>();
    let reports = 0;
    const logger = capturingLogger();
    const publisher = await createRabbitMqTransport({ url: RABBITMQ_URL, namespace, logger, unavailableTimeoutMs: 120_000 });
    try {
      for (const who of ['consumer-1', 'consumer-2']) {
        const child = spawn(
          process.execPath,
          ['--conditions=source', '--import', 'tsx', join(import.meta.dirname, 'restart-consumer.ts'), RABBITMQ_URL, namespace, endpoint, type],
          {
            cwd: root,
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          },
        );
        children.push(child);
        await new Promise<void>((resolve, reject) => {
          child.once('exit', (code) => reject(new Error(`${who} exited with ${code} before it was ready`)));
          child.on('message', (message: { kind: string; ids?: string[]; event?: string; at?: number; detail?: string }) => {
            if (message.kind === 'ready') resolve();
            else if (message.kind === 'event') events.push({ who, event: message.event as string, at: message.at as number, detail: message.detail });
            else if (message.kind === 'handled') {
              for (const id of message.ids ?? []) {
                reports += 1;
                handled.set(id, (handled.get(id) ?? 0) + 1);
              }
            }
          });
        });
      }

      const confirmed = new Set<string>();
      const restarts: Restart[] = [];
      const restartAt = [Math.ceil(TOTAL / 3), Math.ceil(TOTAL / 2)];
      let restarting: Promise<void> | undefined;
      const watcher = setInterval(() => {
        if (restarting || restarts.length >= restartAt.length || confirmed.size < (restartAt[restarts.length] as number)) return;
        const restart: Restart = { at: Date.now(), confirmed: confirmed.size, handled: handled.size, stoppedAt: 0, upAt: 0 };
        restarts.push(restart);
        restarting = (async () => {
          await run('rabbitmqctl', ['stop_app']);
          restart.stoppedAt = Date.now();
          await run('rabbitmqctl', ['start_app']);
          restart.upAt = Date.now();
        })().finally(() => {
          restarting = undefined;
        });
      }, 20);

      const started = Date.now();
      let publishRetries = 0;
      let next = 0;
      const body = new TextEncoder().encode(JSON.stringify({ payload: 'x'.repeat(200) }));
      await Promise.all(
        Array.from({ length: PUBLISH_CONCURRENCY }, async () => {
          while (next < TOTAL) {
            const index = next++;
            const due = started + (index * 1000) / RATE; // paced, so the restarts fall at 1/3 and 1/2 of the run
            if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
            const message = testMessage(type, body);
            for (;;) {
              try {
                await publisher.publish(message);
                confirmed.add(message.headers[HeaderNames.id] as string);
                break;
              } catch {
                publishRetries += 1; // as an outbox relay would: the message was not confirmed, send it again
              }
            }
          }
        }),
      );
      const published = Date.now();
      const deadline = Date.now() + 90_000;
      const resumedAfter = (who: string, restart: Restart) => events.some((e) => e.who === who && e.event === 'consumer-resumed' && e.at >= restart.stoppedAt);
      const settled = () =>
        restarts.length === restartAt.length &&
        !restarting &&
        [...confirmed].every((id) => handled.has(id)) &&
        restarts.every((restart) => resumedAfter('consumer-1', restart) && resumedAfter('consumer-2', restart));
      while (!settled() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      clearInterval(watcher);
      await restarting;
      const done = Date.now();

      const lost = [...confirmed].filter((id) => !handled.has(id)).length;
      const duplicates = reports - handled.size;
      for (const line of logger.lines) events.push({ who: 'publisher', event: (line.fields as { event?: string }).event ?? '', at: line.at });
      const lines = [
        `[rabbitmq restart test] ${TOTAL} messages, 2 consumer processes (prefetch 32), broker restarted ${restarts.length} times with rabbitmqctl stop_app/start_app`,
        `  published and confirmed ${confirmed.size} in ${published - started} ms (${publishRetries} publish calls retried after rejecting), all handled ${done - started} ms after the start`,
        `  lost ${lost}, duplicates ${duplicates} (handled twice: ${[...handled.values()].filter((n) => n > 1).length} messages)`,
      ];
      for (const [i, restart] of restarts.entries()) {
        const after = (who: string, event: string) => {
          const hit = events.find((e) => e.who === who && e.event === event && e.at >= restart.stoppedAt);
          return hit ? `${hit.at - restart.upAt} ms` : 'never';
        };
        const downFor = (who: string) => {
          const lost = events.find((e) => e.who === who && e.event === 'connection-lost' && e.at >= restart.at);
          const back = events.find((e) => e.who === who && e.event === 'consumer-resumed' && e.at >= restart.stoppedAt);
          return lost && back ? back.at - lost.at : Number.NaN;
        };
        lines.push(
          `  restart ${i + 1}: consumers stopped receiving for ${downFor('consumer-1')} / ${downFor('consumer-2')} ms (connection lost to consuming again)`,
        );
        lines.push(
          `  restart ${i + 1} at ${restart.confirmed} confirmed / ${restart.handled} handled: stop_app took ${restart.stoppedAt - restart.at} ms, start_app ${restart.upAt - restart.stoppedAt} ms; ` +
            `after the broker was up: publisher reconnected in ${after('publisher', 'reconnected')}; consumer-1 reconnected in ${after('consumer-1', 'reconnected')}, consuming in ${after('consumer-1', 'consumer-resumed')}; ` +
            `consumer-2 reconnected in ${after('consumer-2', 'reconnected')}, consuming in ${after('consumer-2', 'consumer-resumed')}`,
        );
      }
      if (process.env.MAILROOM_RESTART_TIMELINE) {
        const marks = restarts.flatMap((r, i) => [
          { who: 'rabbitmqctl', event: `stop_app ${i + 1}`, at: r.at },
          { who: 'rabbitmqctl', event: `stopped ${i + 1}`, at: r.stoppedAt },
          { who: 'rabbitmqctl', event: `started ${i + 1}`, at: r.upAt },
        ]);
        for (const e of [...events, ...marks].sort((a, b) => a.at - b.at))
          lines.push(`    ${e.at - started} ms ${e.who} ${e.event} ${'detail' in e && e.detail ? e.detail : ''}`);
      }
      console.log(lines.join('\n'));

      expect(restarts.length).toBe(2);
      expect(confirmed.size).toBe(TOTAL);
      expect(lost).toBe(0);
      for (const [i, restart] of restarts.entries()) {
        for (const who of ['consumer-1', 'consumer-2']) expect(resumedAfter(who, restart), `${who} consumed again after restart ${i + 1}`).toBe(true);
      }
    } finally {
      for (const child of children) child.disconnect?.();
      await ensureBrokerUp();
      await publisher.close();
      await deleteNamespace(namespace, [endpoint]).catch(() => undefined);
      release();
    }
  }, 300_000);
});

/** Starts the broker's application if a failed run left it stopped, and waits until AMQP answers. */
async function ensureBrokerUp(): Promise<void> {
  await run('rabbitmqctl', ['start_app']).catch(() => undefined);
  await run('rabbitmqctl', ['await_startup']).catch(() => undefined);
  const deadline = Date.now() + 60_000;
  while (!(await answers(5672)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function commandWorks(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}
