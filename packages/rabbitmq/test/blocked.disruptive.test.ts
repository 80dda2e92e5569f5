import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { Services, serviceAvailable, testMessage, uniqueName, waitUntil } from '@mailroom/conformance';
import { ErrorCodes, isMailroomError } from '@mailroom/core';
import { describe, expect, it } from 'vitest';
import { createRabbitMqTransport } from '../src/index.js';
import { brokerLock } from './broker-lock.js';
import { capturingLogger, deleteNamespace, RABBITMQ_URL, testNamespace } from './support.js';

const run = promisify(execFile);
const available = await serviceAvailable(Services.rabbitmq);
const hasRabbitmqctl = available && commandWorks('rabbitmqctl', ['version']);
if (available && !hasRabbitmqctl)
  console.warn('[mailroom] skipping the RabbitMQ blocked-connection test: rabbitmqctl is not on PATH (it raises a memory alarm)');

// Disruptive: raises a memory alarm on the shared broker for a few seconds. Vitest runs it after every other file, alone; the
// exclusive test lock also keeps out this package's files of another Vitest run.
describe.runIf(hasRabbitmqctl)('rabbitmq transport when the broker blocks publishers', () => {
  it('makes publish wait while RabbitMQ blocks the connection (memory alarm), reject with MAILROOM_ERR_TRANSPORT_UNAVAILABLE, and go on once unblocked', async () => {
    const release = await brokerLock('exclusive');
    const namespace = testNamespace('blocked');
    const logger = capturingLogger();
    const transport = await createRabbitMqTransport({ url: RABBITMQ_URL, namespace, logger, unavailableTimeoutMs: 1000 });
    const { stdout } = await run('rabbitmqctl', ['eval', 'vm_memory_monitor:get_vm_memory_high_watermark().']);
    const watermark = /^[0-9.]+$/.test(stdout.trim()) ? stdout.trim() : '0.4';
    const hasEvent = (event: string) => logger.lines.some((line) => (line.fields as { event?: string }).event === event);
    try {
      const type = uniqueName('Blocked');
      await transport.publish(testMessage(type, new TextEncoder().encode('{}')));
      await run('rabbitmqctl', ['set_vm_memory_high_watermark', '0.0000001']);
      // RabbitMQ blocks a connection when it next publishes: this publish is held by the broker, the next waits in the transport.
      for (const held of [true, false]) {
        const started = performance.now();
        const error = await transport.publish(testMessage(type, new TextEncoder().encode('{}'))).catch((e: unknown) => e);
        expect(isMailroomError(error, ErrorCodes.TRANSPORT_UNAVAILABLE), String(error)).toBe(true);
        expect((error as Error).message).toContain('blocked');
        expect(performance.now() - started).toBeGreaterThanOrEqual(990);
        expect(hasEvent('blocked'), `blocked reported (${held ? 'held publish' : 'waiting publish'})`).toBe(true);
      }
      await run('rabbitmqctl', ['set_vm_memory_high_watermark', watermark]);
      await waitUntil(
        () => hasEvent('unblocked'),
        20_000,
        () => 'RabbitMQ did not unblock the connection',
      );
      await transport.publish(testMessage(type, new TextEncoder().encode('{}')));
    } finally {
      await run('rabbitmqctl', ['set_vm_memory_high_watermark', watermark]).catch(() => undefined);
      await transport.close();
      await deleteNamespace(namespace).catch(() => undefined);
      release();
    }
  }, 120_000);
});

function commandWorks(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}
