import { Command, Option } from 'commander';
import { addConfigOption, type CommandContext, type ConfigOptions, loadConfigFor, printJson, writeOutput } from '../command-context.js';
import { mermaidGraph, messageFlows } from '../mermaid-graph.js';

/** The `mailroom graph` command: a Mermaid diagram of who publishes and who consumes each message type. */
export function graphCommand(ctx: CommandContext): Command {
  const command = new Command('graph')
    .description('write a Mermaid flowchart of the choreography: who publishes or sends each message type, and who consumes it')
    .addOption(new Option('-o, --output <file>', 'write to this file instead of standard output'))
    .option('--json', 'print JSON instead: [{ type, kind, version, owner, producers, consumers }]');
  addConfigOption(command);
  return command.action(async (options: ConfigOptions & { output?: string; json?: boolean }) => {
    const { system } = await loadConfigFor(ctx, options);
    if (options.json) printJson(ctx, messageFlows(system));
    else writeOutput(ctx, options.output, mermaidGraph(system));
  });
}
