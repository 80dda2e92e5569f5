// Starts the two hello services as separate processes on one broker and waits for the caller to finish.
import { fork } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

const extension = extname(fileURLToPath(import.meta.url));
const script = (name: string) => fileURLToPath(new URL(`./${name}${extension}`, import.meta.url));
const transport = process.env.MAILROOM_TRANSPORT ?? '.mailroom/hello.db';
console.log(`hello: two services on ${transport.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')}`);

const greeter = fork(script('greeter'), [], { execArgv: process.execArgv });
await new Promise<void>((resolve, reject) => {
  greeter.once('message', () => resolve());
  greeter.once('exit', (code) => reject(new Error(`greeter exited early with code ${code}`)));
});
const caller = fork(script('caller'), process.argv.slice(2), { execArgv: process.execArgv });
const code = await new Promise<number>((resolve) => caller.once('exit', (exitCode) => resolve(exitCode ?? 1)));
greeter.kill('SIGTERM');
await new Promise((resolve) => greeter.once('exit', resolve));
process.exitCode = code;
