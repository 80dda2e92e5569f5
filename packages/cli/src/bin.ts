#!/usr/bin/env node
// The `mailroom` executable: runs the CLI on this process's arguments and exits with its code.
import { runCli } from './run-cli.js';

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
const flushed = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => stream.write('', () => resolve()));
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
// A client library may keep a socket or timer alive after close (a connection attempt that timed
// out goes on in the background): never let that hang the shell. The timer itself keeps nothing alive.
setTimeout(() => process.exit(code), 200).unref();
