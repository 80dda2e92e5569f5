import type { StandardJSONSchemaV1, StandardSchemaV1 } from '@standard-schema/spec';
import { ErrorCodes, errorMessage, MailroomError } from './errors.js';
import { validateNow, validateWith } from './validate.js';

/** Events are published to every subscriber; a command is sent to its one owner. */
export type MessageKind = 'event' | 'command';

/**
 * How to lift a message of one older version to the next version: a function, or a schema
 * for that older version (used to validate it and to export its JSON Schema) plus the function.
 */
export type UpcastStep = ((data: any) => unknown) | { schema: StandardSchemaV1; up: (data: any) => unknown; jsonSchema?: Record<string, unknown> };

/**
 * Builds a typed upcast step: `up` receives the output of `schema`, the older version's schema.
 */
export function fromVersion<S extends StandardSchemaV1>(schema: S, up: (data: StandardSchemaV1.InferOutput<S>) => unknown): UpcastStep {
  return { schema, up };
}

/** Options of {@link defineEvent} and {@link defineCommand}. */
export interface ContractOptions<S extends StandardSchemaV1> {
  /** The current version, a positive integer. Consumers always receive this version. */
  version: number;
  /** The Standard Schema (zod 4, valibot, arktype...) of the current version. */
  schema: S;
  /** Keyed by an older version `n`: lifts a version-`n` payload to version `n + 1`. */
  upcast?: Record<number, UpcastStep>;
  /** One line saying what the message means; goes into AsyncAPI and `mailroom graph`. */
  description?: string;
  /** JSON Schema of the current version, for schema libraries without Standard JSON Schema support. */
  jsonSchema?: Record<string, unknown>;
}

/** Options of {@link defineCommand}: a command also names the endpoint that owns it. */
export interface CommandOptions<S extends StandardSchemaV1> extends ContractOptions<S> {
  /** The endpoint that handles this command; `send` routes to it unless told otherwise. */
  owner: string;
}

/**
 * A message type: kind, type name, current version, schema and upcasters.
 * Created by {@link defineEvent} or {@link defineCommand}; immutable.
 */
export interface Contract<K extends MessageKind = MessageKind, T extends string = string, S extends StandardSchemaV1 = StandardSchemaV1> {
  readonly kind: K;
  readonly type: T;
  readonly version: number;
  readonly schema: S;
  readonly owner: string | undefined;
  readonly description: string | undefined;
  /** Every version a consumer of this contract accepts (the current one and each upcastable older one), ascending. */
  readonly acceptedVersions: readonly number[];
  /** The upcast steps, keyed by the version they lift from. */
  readonly upcasters: ReadonlyMap<number, UpcastStep>;
  /**
   * The JSON Schema (draft 2020-12) of the given version (default: current), or undefined when
   * the schema library cannot produce one and none was given.
   */
  jsonSchema(version?: number): Record<string, unknown> | undefined;
}

/** A contract for an event. */
export type EventContract<T extends string = string, S extends StandardSchemaV1 = StandardSchemaV1> = Contract<'event', T, S>;
/** A contract for a command. */
export type CommandContract<T extends string = string, S extends StandardSchemaV1 = StandardSchemaV1> = Contract<'command', T, S>;
/** Any contract. */
export type AnyContract = Contract<MessageKind, string, StandardSchemaV1>;

/** The payload type a handler receives for a contract (the schema's output). */
export type MessageOf<C extends AnyContract> = StandardSchemaV1.InferOutput<C['schema']>;
/** The payload type a publisher passes for a contract (the schema's input). */
export type PayloadOf<C extends AnyContract> = StandardSchemaV1.InferInput<C['schema']>;

const TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]{0,199}$/;
const ENDPOINT_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,99}$/;

/** The rule endpoint names follow: lower-case letters, digits, `_`, `.`, `-`, at most 100 characters. */
export function assertEndpointName(name: unknown, what = 'endpoint name'): asserts name is string {
  if (typeof name !== 'string' || !ENDPOINT_PATTERN.test(name)) {
    throw new MailroomError(
      ErrorCodes.ENDPOINT_CONFIG,
      `Invalid ${what} ${JSON.stringify(name)}: use lower-case letters, digits, '_', '.', '-' (at most 100 characters, starting with a letter or digit).`,
    );
  }
}

function definitionError(type: string, message: string): MailroomError {
  return new MailroomError(ErrorCodes.CONTRACT_DEFINITION, `Contract ${JSON.stringify(type)}: ${message}`);
}

function hasJsonSchema(schema: unknown): schema is StandardJSONSchemaV1 {
  const props = (schema as { '~standard'?: { jsonSchema?: unknown } })['~standard'];
  return typeof props?.jsonSchema === 'object' && props.jsonSchema !== null;
}

function toJsonSchema(schema: unknown, explicit: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (explicit) return explicit;
  if (!hasJsonSchema(schema)) return undefined;
  try {
    return schema['~standard'].jsonSchema.input({ target: 'draft-2020-12' });
  } catch {
    return undefined;
  }
}

function defineContract<K extends MessageKind, T extends string, S extends StandardSchemaV1>(
  kind: K,
  type: T,
  options: ContractOptions<S> & { owner?: string },
): Contract<K, T, S> {
  if (typeof type !== 'string' || !TYPE_PATTERN.test(type)) {
    throw definitionError(String(type), "the type must start with a letter and use only letters, digits, '_', '.', '-' (at most 200 characters)");
  }
  const { version, schema } = options;
  if (!Number.isSafeInteger(version) || version < 1) throw definitionError(type, `version must be a positive integer, got ${String(version)}`);
  if (typeof schema?.['~standard']?.validate !== 'function') throw definitionError(type, 'schema must implement Standard Schema (zod 4, valibot, arktype...)');
  if (kind === 'command') assertEndpointName(options.owner, `owner of command ${JSON.stringify(type)}`);

  const upcasters = new Map<number, UpcastStep>();
  for (const [key, step] of Object.entries(options.upcast ?? {})) {
    const from = Number(key);
    if (!Number.isSafeInteger(from) || from < 1 || from >= version) {
      throw definitionError(type, `upcast key ${key} must be an older version between 1 and ${version - 1}`);
    }
    const valid = typeof step === 'function' || (typeof step?.up === 'function' && typeof step.schema?.['~standard']?.validate === 'function');
    if (!valid) throw definitionError(type, `upcast step from version ${key} must be a function or { schema, up }`);
    upcasters.set(from, step);
  }
  // A version is accepted when an unbroken chain of upcasters leads from it to the current one.
  const acceptedVersions: number[] = [version];
  for (let v = version - 1; v >= 1 && upcasters.has(v); v--) acceptedVersions.unshift(v);

  const jsonSchemas = new Map<number, Record<string, unknown> | undefined>();
  return Object.freeze({
    kind,
    type,
    version,
    schema,
    owner: options.owner,
    description: options.description,
    acceptedVersions: Object.freeze(acceptedVersions),
    upcasters,
    jsonSchema(requested = version) {
      if (!jsonSchemas.has(requested)) {
        const step = upcasters.get(requested);
        jsonSchemas.set(
          requested,
          requested === version
            ? toJsonSchema(schema, options.jsonSchema)
            : step && typeof step === 'object'
              ? toJsonSchema(step.schema, step.jsonSchema)
              : undefined,
        );
      }
      return jsonSchemas.get(requested);
    },
  });
}

/**
 * Defines an event contract: a type name, its current version, its schema and upcasters from
 * older versions. Events are published to every endpoint that subscribes to the type.
 * Throws `MAILROOM_ERR_CONTRACT_DEFINITION` at definition time for a malformed definition.
 */
export function defineEvent<const T extends string, S extends StandardSchemaV1>(type: T, options: ContractOptions<S>): EventContract<T, S> {
  return defineContract('event', type, options);
}

/**
 * Defines a command contract. A command has exactly one owner endpoint, which receives every
 * command sent with this contract. Throws `MAILROOM_ERR_CONTRACT_DEFINITION` for a malformed definition.
 */
export function defineCommand<const T extends string, S extends StandardSchemaV1>(type: T, options: CommandOptions<S>): CommandContract<T, S> {
  return defineContract('command', type, options);
}

/**
 * True when `value` is a contract made by {@link defineEvent} or {@link defineCommand} (checked by
 * shape, so it holds across duplicate copies of this package).
 */
export function isContract(value: unknown): value is AnyContract {
  const c = value as AnyContract | undefined;
  return (
    typeof c === 'object' &&
    c !== null &&
    (c.kind === 'event' || c.kind === 'command') &&
    typeof c.type === 'string' &&
    typeof c.version === 'number' &&
    typeof c.jsonSchema === 'function'
  );
}

/**
 * Validates a payload about to be published against the contract's current schema.
 * Throws `MAILROOM_ERR_CONTRACT_VALIDATION` to the caller; nothing is sent.
 */
export async function validateOutgoing(contract: AnyContract, data: unknown): Promise<void> {
  await validateOutgoingNow(contract, data);
}

/**
 * As {@link validateOutgoing}, without a promise when the contract's schema validates
 * synchronously: returns undefined once the payload is valid, a promise for an asynchronous schema,
 * and throws (or rejects with) the same `MAILROOM_ERR_CONTRACT_VALIDATION` error.
 */
export function validateOutgoingNow(contract: AnyContract, data: unknown): Promise<unknown> | undefined {
  const checked = validateNow(contract.schema, data, `${contract.type} v${contract.version}`);
  return checked instanceof Promise ? checked : undefined;
}

/**
 * As {@link readIncoming}, without a promise for the common case: a payload already in the
 * contract's current version, checked by a schema that validates synchronously, is returned (or
 * the same error thrown) at once; anything else returns {@link readIncoming}'s promise.
 */
export function readIncomingNow<C extends AnyContract>(contract: C, data: unknown, version: number): MessageOf<C> | Promise<MessageOf<C>> {
  if (version !== contract.version) return readIncoming(contract, data, version);
  return validateNow(contract.schema, data, `${contract.type} v${contract.version}`) as MessageOf<C> | Promise<MessageOf<C>>;
}

/**
 * Turns a decoded payload of `version` into the contract's current version and validates it.
 * Guarantees the returned value is the current schema's output; otherwise throws
 * `MAILROOM_ERR_CONTRACT_UNKNOWN_VERSION`, `MAILROOM_ERR_CONTRACT_UPCAST_FAILED` or
 * `MAILROOM_ERR_CONTRACT_VALIDATION`, all unrecoverable.
 */
export async function readIncoming<C extends AnyContract>(contract: C, data: unknown, version: number): Promise<MessageOf<C>> {
  if (version > contract.version) {
    throw new MailroomError(
      ErrorCodes.CONTRACT_UNKNOWN_VERSION,
      `${contract.type} v${version} is newer than this consumer's contract (v${contract.version}); deploy the newer contract to consume it`,
      { unrecoverable: true, details: { type: contract.type, version, known: contract.version } },
    );
  }
  let current = data;
  for (let v = version; v < contract.version; v++) {
    const step = contract.upcasters.get(v);
    if (!step) {
      throw new MailroomError(ErrorCodes.CONTRACT_UPCAST_FAILED, `${contract.type} has no upcaster from v${v} to v${v + 1}`, {
        unrecoverable: true,
        details: { type: contract.type, version, from: v },
      });
    }
    if (typeof step === 'object') current = await validateWith(step.schema, current, `${contract.type} v${v}`);
    try {
      current = await (typeof step === 'function' ? step(current) : step.up(current));
    } catch (error) {
      throw new MailroomError(ErrorCodes.CONTRACT_UPCAST_FAILED, `${contract.type} upcaster v${v} -> v${v + 1} threw: ${errorMessage(error)}`, {
        cause: error,
        unrecoverable: true,
        details: { type: contract.type, version, from: v },
      });
    }
  }
  return validateWith(contract.schema, current, `${contract.type} v${contract.version}`);
}
