// The greeter service: answers every GreetingRequested with a Greeted event.
import { createEndpoint } from '@mailroom/core';
import { Greeted, GreetingRequested } from './contracts.js';
import { connect } from './transport.js';

const transport = await connect();
const greeter = createEndpoint({ name: 'hello-greeter', transport });

greeter.on(GreetingRequested, async (request, ctx) => {
  await ctx.publish(Greeted, { greeting: `Hello, ${request.name}!`, by: `greeter pid ${process.pid}` });
});

await greeter.start();
process.send?.('ready');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    await greeter.stop();
    await transport.close();
  });
}
