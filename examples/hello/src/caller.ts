// The caller service: asks for greetings and prints each answer as it arrives, then exits.
import { createEndpoint } from '@mailroom/core';
import { Greeted, GreetingRequested } from './contracts.js';
import { connect } from './transport.js';

const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['Ada', 'Grace', 'Barbara'];
const transport = await connect();
const caller = createEndpoint({ name: 'hello-caller', transport });
const waiting = new Map<string, string>();
let finish: () => void;
const allAnswered = new Promise<void>((resolve) => {
  finish = resolve;
});

caller.on(Greeted, (greeted, ctx) => {
  const name = waiting.get(ctx.envelope.correlationid);
  if (name === undefined) return; // an answer to an earlier run
  waiting.delete(ctx.envelope.correlationid);
  console.log(`caller: ${name} -> "${greeted.greeting}" (from ${greeted.by}, correlation ${ctx.envelope.correlationid})`);
  if (waiting.size === 0) finish();
});

await caller.start();
for (const name of names) {
  const { correlationid } = await caller.publish(GreetingRequested, { name });
  waiting.set(correlationid, name);
}
const timeout = setTimeout(() => {
  console.error(`caller: no answer for ${[...waiting.values()].join(', ')} within 15 s`);
  process.exit(1);
}, 15_000);
await allAnswered;
clearTimeout(timeout);
await caller.stop();
await transport.close();
