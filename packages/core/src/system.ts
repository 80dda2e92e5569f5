import { type AnyContract, assertEndpointName, type CommandContract, type EventContract, isContract } from './contract.js';
import { ErrorCodes, MailroomError } from './errors.js';

/** How one endpoint of a system is declared: what it consumes, publishes and sends. */
export interface SystemEndpointDefinition {
  /** The endpoint name, as given to `createEndpoint`. */
  name: string;
  /** One line saying what the endpoint does; goes into AsyncAPI and `mailroom graph`. */
  description?: string;
  /** The events and commands it handles. */
  consumes?: readonly AnyContract[];
  /** The events it publishes. */
  publishes?: readonly EventContract[];
  /** The commands it sends. */
  sends?: readonly CommandContract[];
}

/** The declaration {@link defineSystem} takes: the system's endpoints, and optionally more contracts. */
export interface SystemDefinition {
  /** The system's name (the AsyncAPI title). */
  name?: string;
  /** The system's version (the AsyncAPI `info.version`). Default `0.0.0`. */
  version?: string;
  description?: string;
  /** The transport URL tools such as `mailroom` use when none is given on the command line or in `MAILROOM_TRANSPORT`. */
  transport?: string;
  /** Contracts no endpoint mentions (still part of the system's published contracts). */
  contracts?: readonly AnyContract[];
  endpoints: readonly SystemEndpointDefinition[];
}

/** One endpoint of a {@link System}, normalized: every list present, without duplicates. */
export interface SystemEndpoint {
  readonly name: string;
  readonly description: string | undefined;
  readonly consumes: readonly AnyContract[];
  readonly publishes: readonly EventContract[];
  readonly sends: readonly CommandContract[];
}

/**
 * A checked description of a system: its endpoints and every contract they exchange. Created by
 * {@link defineSystem}; immutable. Tools (`mailroom contracts`, `asyncapi`, `graph`) read it.
 */
export interface System {
  readonly name: string | undefined;
  readonly version: string;
  readonly description: string | undefined;
  readonly transport: string | undefined;
  /** Every contract of the system (listed ones and those the endpoints mention), one per type, sorted by type. */
  readonly contracts: readonly AnyContract[];
  /** The endpoints in declaration order. */
  readonly endpoints: readonly SystemEndpoint[];
  /** The contract of a type, if the system has it. */
  contract(type: string): AnyContract | undefined;
  /** Names of the endpoints that publish or send the type, in declaration order. */
  producersOf(type: string): string[];
  /** Names of the endpoints that consume the type, in declaration order. */
  consumersOf(type: string): string[];
}

const KIND_LISTS = { consumes: undefined, publishes: 'event', sends: 'command' } as const;

function configError(message: string): MailroomError {
  return new MailroomError(ErrorCodes.ENDPOINT_CONFIG, message);
}

/**
 * True when two contracts mean the same message: the same object, or (a copy, such as a module
 * loaded twice) the same kind, version, owner and accepted versions, and the same JSON Schema of
 * the current version; without a JSON Schema on either side, the same schema object.
 */
function sameContract(a: AnyContract, b: AnyContract): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind || a.version !== b.version || a.owner !== b.owner || a.acceptedVersions.join() !== b.acceptedVersions.join()) return false;
  const [schemaA, schemaB] = [a.jsonSchema(), b.jsonSchema()];
  if (schemaA === undefined || schemaB === undefined) return a.schema === b.schema;
  return JSON.stringify(schemaA) === JSON.stringify(schemaB);
}

function contractList<K extends keyof typeof KIND_LISTS>(
  endpoint: string,
  list: K,
  value: unknown,
  addContract: (contract: AnyContract) => void,
): AnyContract[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw configError(`System endpoint ${endpoint}: "${list}" must be an array of contracts`);
  const wanted = KIND_LISTS[list];
  const result: AnyContract[] = [];
  for (const item of value) {
    if (!isContract(item))
      throw configError(`System endpoint ${endpoint}: "${list}" holds something that is not a contract made by defineEvent or defineCommand`);
    if (wanted !== undefined && item.kind !== wanted) {
      const hint = item.kind === 'command' ? 'list commands under "sends"' : 'list events under "publishes"';
      throw configError(`System endpoint ${endpoint}: ${item.type} is ${item.kind === 'event' ? 'an event' : 'a command'}: ${hint}`);
    }
    addContract(item);
    if (!result.some((c) => c.type === item.type)) result.push(item);
  }
  return result;
}

/**
 * Declares a system: its endpoints and, per endpoint, what it consumes, publishes and sends.
 * Guarantees the result names each endpoint once with a valid name, lists events only under
 * `publishes` and commands only under `sends`, and has one contract per type. Throws
 * `MAILROOM_ERR_ENDPOINT_CONFIG` for a malformed endpoint and `MAILROOM_ERR_CONTRACT_DEFINITION`
 * when two different contracts share a type name (two contract objects are the same contract when
 * they agree on kind, version, owner, accepted versions and JSON Schema, as a copy of one module
 * does). Idempotent: a `System` passed in comes out equal.
 */
export function defineSystem(definition: SystemDefinition): System {
  if (typeof definition !== 'object' || definition === null || !Array.isArray(definition.endpoints)) {
    throw configError('defineSystem needs { endpoints: [{ name, consumes, publishes, sends }] }');
  }
  for (const key of ['name', 'version', 'description', 'transport'] as const) {
    if (definition[key] !== undefined && typeof definition[key] !== 'string') throw configError(`defineSystem: "${key}" must be a string`);
  }
  const byType = new Map<string, AnyContract>();
  const addContract = (contract: AnyContract) => {
    const known = byType.get(contract.type);
    if (!known) byType.set(contract.type, contract);
    else if (!sameContract(known, contract)) {
      throw new MailroomError(
        ErrorCodes.CONTRACT_DEFINITION,
        `Two different contracts are named ${JSON.stringify(contract.type)} (${known.kind} v${known.version} and ${contract.kind} v${contract.version}${
          known.kind === contract.kind && known.version === contract.version ? ', with different owners, upcasters or schemas' : ''
        }): a type name must mean one contract`,
      );
    }
  };

  const endpoints: SystemEndpoint[] = [];
  for (const raw of definition.endpoints) {
    if (typeof raw !== 'object' || raw === null) throw configError('defineSystem: every endpoint must be an object { name, consumes, publishes, sends }');
    assertEndpointName(raw.name, 'system endpoint name');
    if (endpoints.some((e) => e.name === raw.name)) throw configError(`defineSystem: endpoint ${raw.name} is declared twice`);
    if (raw.description !== undefined && typeof raw.description !== 'string') throw configError(`System endpoint ${raw.name}: "description" must be a string`);
    const endpoint: SystemEndpoint = Object.freeze({
      name: raw.name,
      description: raw.description,
      consumes: Object.freeze(contractList(raw.name, 'consumes', raw.consumes, addContract)),
      publishes: Object.freeze(contractList(raw.name, 'publishes', raw.publishes, addContract) as EventContract[]),
      sends: Object.freeze(contractList(raw.name, 'sends', raw.sends, addContract) as CommandContract[]),
    });
    endpoints.push(endpoint);
  }
  if (definition.contracts !== undefined && !Array.isArray(definition.contracts)) throw configError('defineSystem: "contracts" must be an array of contracts');
  for (const contract of definition.contracts ?? []) {
    if (!isContract(contract)) throw configError('defineSystem: "contracts" holds something that is not a contract made by defineEvent or defineCommand');
    addContract(contract);
  }

  const contracts = [...byType.values()].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  return Object.freeze({
    name: definition.name,
    version: definition.version ?? '0.0.0',
    description: definition.description,
    transport: definition.transport,
    contracts: Object.freeze(contracts),
    endpoints: Object.freeze(endpoints),
    contract: (type: string) => byType.get(type),
    producersOf: (type: string) => endpoints.filter((e) => [...e.publishes, ...e.sends].some((c) => c.type === type)).map((e) => e.name),
    consumersOf: (type: string) => endpoints.filter((e) => e.consumes.some((c) => c.type === type)).map((e) => e.name),
  });
}
