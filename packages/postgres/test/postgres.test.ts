import { describeInboxStore, describeOutboxStore, describePersistence, Services, serviceAvailable } from '@mailroom/conformance';
import { describe } from 'vitest';
import { describeConfigTests } from './config.js';
import { createPostgresFixture, createPostgresPersistenceFixture } from './pg-fixture.js';

// The restart test, which stops the server, is restart.disruptive.test.ts: Vitest runs it after every other file, alone.
const available = await serviceAvailable(Services.postgres);

describe.runIf(available)('postgres', () => {
  describeConfigTests();
  describeOutboxStore({ name: 'postgres', create: createPostgresFixture });
  describeInboxStore({ name: 'postgres', create: createPostgresFixture });
  // A claim PostgreSQL ended (its session idle past claimTimeoutMs) cannot complete: its late mark-sent rejects.
  describePersistence({ name: 'postgres', create: createPostgresPersistenceFixture, expiredCompleteRejects: true });
});
