import { describeInboxStore, describeOutboxStore, Services, serviceAvailable } from '@mailroom/conformance';
import { describe } from 'vitest';
import { describeConfigTests } from './config.js';
import { describeCrashTest } from './crash.js';
import { createPostgresFixture } from './pg-fixture.js';
import { describeRaceTest } from './race.js';
import { describeRestartTest } from './restart.js';

// One file, so its tests run one after another: the restart test stops the server the others use.
const available = await serviceAvailable(Services.postgres);

describe.runIf(available)('postgres', () => {
  describeConfigTests();
  describeOutboxStore({ name: 'postgres', create: createPostgresFixture });
  describeInboxStore({ name: 'postgres', create: createPostgresFixture });
  describeRaceTest();
  describeCrashTest();
  describeRestartTest();
});
