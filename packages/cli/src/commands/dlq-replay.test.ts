import { ErrorCodes, MailroomError, type Transport } from '@mailroom/core';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryIo } from '../../test/memory-io.js';
import { CliErrorCodes } from '../errors.js';
import { ExitCodes } from '../exit-codes.js';
import { runCli } from '../run-cli.js';

// A broker whose replay of one id fails as `failWith` says; every other id replays.
const broker = vi.hoisted(() => ({ attempted: [] as string[], failing: '', failWith: 'closed' as 'closed' | 'hang' }));

vi.mock('../open-transport.js', () => ({
  openTransport: async (): Promise<Transport> =>
    ({
      name: 'fake',
      deadLetters: {
        replay: (id: string) => {
          broker.attempted.push(id);
          if (id !== broker.failing) return Promise.resolve();
          if (broker.failWith === 'hang') return new Promise(() => undefined);
          return Promise.reject(new MailroomError(ErrorCodes.TRANSPORT_CLOSED, 'The transport was closed'));
        },
      },
      close: async () => undefined,
    }) as unknown as Transport,
}));

const fakeBroker = { MAILROOM_TRANSPORT: 'amqp://fake' };

describe('mailroom dlq replay when the broker stops answering', () => {
  beforeEach(() => {
    broker.attempted = [];
  });

  it('lists the ids it never attempted after a closed transport as skipped, in --json', async () => {
    Object.assign(broker, { failing: 'b', failWith: 'closed' });
    const io = memoryIo(fakeBroker);
    expect(await runCli(['dlq', 'replay', 'a', 'b', 'c', 'd', '--json'], io)).toBe(ExitCodes.TRANSPORT);
    expect(broker.attempted).toEqual(['a', 'b']);
    expect(JSON.parse(io.out)).toEqual({
      replayed: ['a'],
      failed: [{ id: 'b', code: ErrorCodes.TRANSPORT_CLOSED, message: 'The transport was closed' }],
      skipped: ['c', 'd'],
    });
    expect(io.err).toContain('1 dead letter not replayed (1 replayed, 2 skipped)');
  });

  it('lists the ids it never attempted after a timeout as skipped, in text', async () => {
    Object.assign(broker, { failing: 'a', failWith: 'hang' });
    const io = memoryIo(fakeBroker);
    expect(await runCli(['dlq', 'replay', 'a', 'b', 'c', '--timeout', '50'], io)).toBe(ExitCodes.TRANSPORT);
    expect(broker.attempted).toEqual(['a']);
    expect(io.out).toBe(
      'Replayed 0 dead letters\n' +
        '  not replayed a: Replaying dead letter a did not finish within 50 ms (--timeout)\n' +
        '  skipped, never attempted: b, c\n',
    );
    expect(io.err).toContain(CliErrorCodes.TIMEOUT);
  });

  it('prints ids and messages with their control characters escaped, so none reaches the terminal', async () => {
    const clear = '\u001b[2J';
    Object.assign(broker, { failing: `b${clear}`, failWith: 'closed' });
    const io = memoryIo(fakeBroker);
    expect(await runCli(['dlq', 'replay', `a${clear}`, `b${clear}`, `c${clear}`], io)).toBe(ExitCodes.TRANSPORT);
    expect(io.out).toBe(
      'Replayed 1 dead letter: a\\x1b[2J\n' + '  not replayed b\\x1b[2J: The transport was closed\n' + '  skipped, never attempted: c\\x1b[2J\n',
    );
    expect(io.out + io.err).not.toContain('\u001b');
  });

  it('has an empty skipped list when every id was attempted', async () => {
    Object.assign(broker, { failing: '', failWith: 'closed' });
    const io = memoryIo(fakeBroker);
    expect(await runCli(['dlq', 'replay', 'a', 'b', '--json'], io)).toBe(ExitCodes.OK);
    expect(JSON.parse(io.out)).toEqual({ replayed: ['a', 'b'], failed: [], skipped: [] });
  });
});
