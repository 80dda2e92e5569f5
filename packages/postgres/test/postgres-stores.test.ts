import { describeInboxStore, describeOutboxStore, Services, serviceAvailable } from '@mailroom/conformance';
import { describe } from 'vitest';
import { createPostgresFixture } from './pg-fixture.js';

const available = await serviceAvailable(Services.postgres);

describe.runIf(available)('postgres', () => {
  describeOutboxStore({ name: 'postgres', create: createPostgresFixture });
  describeInboxStore({ name: 'postgres', create: createPostgresFixture });
});
