import type { Scenario } from '../scenario.js';
import { natsScenario } from './nats.js';
import { rabbitmqScenario } from './rabbitmq.js';

/** Every scenario, in the order `npm run bench` runs them. */
export const scenarios: readonly Scenario[] = [rabbitmqScenario, natsScenario];
