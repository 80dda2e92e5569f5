import { describeInboxStore, describeOutboxStore, Services, serviceAvailable } from '@mailroom/conformance';
import { describe } from 'vitest';
import { describeConfigTests } from './config.js';
import { describeCrashTest } from './crash.js';
import { createPostgresFixture } from './pg-fixture.js';
import { describeRaceTest } from './race.js';

// The restart test, which stops the server, is restart.disruptive.test.ts: Vitest runs it after every other file, alone.
const available = await serviceAvailable(Services.postgres);

describe.runIf(available)('postgres', () => {
  describeConfigTests();
  describeOutboxStore({ name: 'postgres', create: createPostgresFixture });
  describeInboxStore({ name: 'postgres', create: createPostgresFixture });
  describeRaceTest();
  describeCrashTest();
});
