import { defineEvent } from '@mailroom/core';
import { z } from 'zod';

/** Someone asks for a greeting. */
export const GreetingRequested = defineEvent('hello.GreetingRequested', {
  version: 1,
  schema: z.object({ name: z.string().min(1) }),
  description: 'Someone would like to be greeted',
});

/** The greeter answered. */
export const Greeted = defineEvent('hello.Greeted', {
  version: 1,
  schema: z.object({ greeting: z.string(), by: z.string() }),
  description: 'A greeting was composed',
});
