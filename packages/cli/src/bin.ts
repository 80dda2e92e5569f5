#!/usr/bin/env node
// The `mailroom` executable: runs the CLI on this process's arguments and exits with its code.
import { runCli } from './run-cli.js';

process.env.MAILROOM_LOG_LEVEL ??= 'warn';
const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// A client library may keep a socket or timer alive after close; never let that hang the shell.
setTimeout(() => process.exit(code), 2000).unref();
