import { describeInboxStore, describeOutboxStore } from '@mailroom/conformance';
import { createSqliteFixture } from './persistence-fixture.js';

describeOutboxStore({ name: 'sqlite', create: createSqliteFixture });
describeInboxStore({ name: 'sqlite', create: createSqliteFixture });
