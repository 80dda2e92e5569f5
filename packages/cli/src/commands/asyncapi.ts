import { MailroomError } from '@mailroom/core';
import { Command, Option } from 'commander';
import { stringify } from 'yaml';
import { asyncApiDocument, validateAsyncApi } from '../asyncapi-document.js';
import { addConfigOption, type CommandContext, type ConfigOptions, loadConfigFor, writeOutput } from '../command-context.js';
import { CliErrorCodes } from '../errors.js';

/** The `mailroom asyncapi` command: writes the system's AsyncAPI 3.0 document, validated. */
export function asyncapiCommand(ctx: CommandContext): Command {
  const command = new Command('asyncapi')
    .description('write the AsyncAPI 3.0 document of the project (channels per message type, operations per endpoint), validated with @asyncapi/parser')
    .addOption(new Option('-o, --output <file>', 'write to this file instead of standard output'))
    .addOption(new Option('-f, --format <format>', 'yaml or json (default: json when --output ends in .json, else yaml)').choices(['yaml', 'json']));
  addConfigOption(command);
  return command.action(async (options: ConfigOptions & { output?: string; format?: 'yaml' | 'json' }) => {
    const { system } = await loadConfigFor(ctx, options);
    const document = asyncApiDocument(system);
    const errors = await validateAsyncApi(document);
    if (errors.length > 0) {
      for (const error of errors) ctx.io.stderr(`  ${error.path || '(document)'}: ${error.message}\n`);
      throw new MailroomError(
        CliErrorCodes.ASYNCAPI_INVALID,
        `The generated AsyncAPI document has ${errors.length} error${errors.length === 1 ? '' : 's'} (listed above); nothing was written`,
      );
    }
    const format = options.format ?? (options.output?.endsWith('.json') ? 'json' : 'yaml');
    writeOutput(
      ctx,
      options.output,
      format === 'json' ? `${JSON.stringify(document, null, 2)}\n` : stringify(document, { aliasDuplicateObjects: false, lineWidth: 0 }),
    );
  });
}
