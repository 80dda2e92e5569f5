import { Command } from 'commander';
import { addTransportOptions, type CommandContext, printJson, type TransportOptions, timed, withTransport } from '../command-context.js';
import { textTable } from '../text-table.js';

function count(value: number | undefined): string {
  return value === undefined ? '?' : String(value);
}

/** The `mailroom topology` command: the broker's queues / streams with depth, in-flight, consumers and dead letters. */
export function topologyCommand(ctx: CommandContext): Command {
  const command = new Command('topology')
    .description('show the queues / streams of the broker: depth, in flight, consumers, dead letters and bound event types')
    .option('--json', 'print JSON: { transport, queues: [{ endpoint, name, depth, inFlight, consumers, deadLetters, events }] }');
  addTransportOptions(command);
  return command.action(async (options: TransportOptions & { json?: boolean }) => {
    await withTransport(ctx, options, async (transport) => {
      const queues = await timed(options, 'Listing queues', transport.queues());
      if (options.json) {
        printJson(ctx, { transport: transport.name, queues });
        return;
      }
      if (queues.length === 0) {
        ctx.io.stdout(`No queues on this ${transport.name} broker yet.\n`);
        return;
      }
      const rows = queues.map((q) => [
        q.endpoint,
        q.name,
        String(q.depth),
        count(q.inFlight),
        count(q.consumers),
        String(q.deadLetters),
        q.events.join(', ') || '-',
      ]);
      const total = (pick: (q: (typeof queues)[number]) => number) => queues.reduce((sum, q) => sum + pick(q), 0);
      ctx.io.stdout(
        `${queues.length} queue${queues.length === 1 ? '' : 's'} on ${transport.name}: ${total((q) => q.depth)} waiting, ${total((q) => q.deadLetters)} dead letters\n\n` +
          textTable(['ENDPOINT', 'QUEUE', 'DEPTH', 'IN FLIGHT', 'CONSUMERS', 'DEAD LETTERS', 'EVENTS'], rows),
      );
    });
  });
}
