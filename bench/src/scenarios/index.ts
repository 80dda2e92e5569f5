import type { Scenario } from '../scenario.js';
import { consoleScenario } from './console.js';
import { costScenario } from './cost.js';
import { httpScenario } from './http.js';
import { natsScenario } from './nats.js';
import { outboxScenario } from './outbox.js';
import { peersScenario } from './peers.js';
import { postgresScenario } from './postgres.js';
import { rabbitmqScenario } from './rabbitmq.js';
import { rpcScenario } from './rpc.js';
import { scalingScenario } from './scaling.js';
import { scheduleScenario } from './schedule.js';
import { sqliteScenario } from './sqlite.js';
import { telemetryScenario } from './telemetry.js';

/** Every scenario, in the order `npm run bench` runs them. */
export const scenarios: readonly Scenario[] = [
  rabbitmqScenario,
  natsScenario,
  sqliteScenario,
  outboxScenario,
  httpScenario,
  rpcScenario,
  peersScenario,
  postgresScenario,
  scalingScenario,
  telemetryScenario,
  costScenario,
  consoleScenario,
  scheduleScenario,
];
