import { existsSync, readFileSync } from 'node:fs';
import { errorMessage, MailroomError, type System } from '@mailroom/core';
import { CliErrorCodes } from './errors.js';

/** A JSON Schema, as `contract.jsonSchema(version)` returns it. */
export type JsonSchema = Record<string, unknown>;

/** What the lock records of one contract. */
export interface LockedContract {
  readonly kind: 'event' | 'command';
  /** The current version. */
  readonly version: number;
  /** The owner endpoint of a command; absent for events. */
  readonly owner?: string;
  /** Every version consumers accept (the current one and each upcastable older one), ascending. */
  readonly acceptedVersions: readonly number[];
  /** JSON Schema per accepted version (keyed by the version number); null when the schema library gives none. */
  readonly schemas: Readonly<Record<string, JsonSchema | null>>;
  /** Endpoints that publish or send it. */
  readonly producers: readonly string[];
  /** Endpoints that consume it. */
  readonly consumers: readonly string[];
}

/** The contents of `contracts.lock.json`: every contract of a system, as released. */
export interface ContractsLock {
  readonly lockfileVersion: 1;
  /** Keyed by message type, sorted. */
  readonly contracts: Readonly<Record<string, LockedContract>>;
}

/** The default lock file name. */
export const LOCK_FILE_NAME = 'contracts.lock.json';

/**
 * The lock of a system as it is now: per contract, kind, versions, JSON Schemas, producers and
 * consumers. Deterministic: the same system gives byte-identical {@link serializeLock} output.
 */
export function snapshotContracts(system: System): ContractsLock {
  const contracts: Record<string, LockedContract> = {};
  for (const contract of system.contracts) {
    const schemas: Record<string, JsonSchema | null> = {};
    for (const version of contract.acceptedVersions) schemas[String(version)] = withoutMetaSchema(contract.jsonSchema(version)) ?? null;
    contracts[contract.type] = {
      kind: contract.kind,
      version: contract.version,
      ...(contract.owner !== undefined && { owner: contract.owner }),
      acceptedVersions: [...contract.acceptedVersions],
      schemas,
      producers: system.producersOf(contract.type),
      consumers: system.consumersOf(contract.type),
    };
  }
  return { lockfileVersion: 1, contracts };
}

function withoutMetaSchema(schema: JsonSchema | undefined): JsonSchema | undefined {
  if (schema === undefined) return undefined;
  const { $schema: _ignored, ...rest } = schema;
  return rest;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}

/** The lock as the text of `contracts.lock.json`: keys sorted at every level, two-space indent, a final newline. */
export function serializeLock(lock: ContractsLock): string {
  return `${JSON.stringify(sortKeys(lock), null, 2)}\n`;
}

/**
 * Reads a lock file. Throws `MAILROOM_ERR_CLI_LOCK_NOT_FOUND` when it does not exist and
 * `MAILROOM_ERR_CLI_LOCK_INVALID` when it is not a version-1 lock.
 */
export function readLock(path: string): ContractsLock {
  if (!existsSync(path)) {
    throw new MailroomError(CliErrorCodes.LOCK_NOT_FOUND, `${path} does not exist: run \`mailroom contracts snapshot\` to record the released contracts first`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new MailroomError(CliErrorCodes.LOCK_INVALID, `${path} is not valid JSON: ${errorMessage(error)}`, { cause: error });
  }
  const lock = parsed as Partial<ContractsLock>;
  if (lock?.lockfileVersion !== 1 || typeof lock.contracts !== 'object' || lock.contracts === null) {
    throw new MailroomError(CliErrorCodes.LOCK_INVALID, `${path} is not a contracts lock (expected { "lockfileVersion": 1, "contracts": { ... } })`);
  }
  for (const [type, entry] of Object.entries(lock.contracts)) {
    const valid =
      (entry?.kind === 'event' || entry?.kind === 'command') &&
      Number.isSafeInteger(entry.version) &&
      Array.isArray(entry.acceptedVersions) &&
      typeof entry.schemas === 'object' &&
      Array.isArray(entry.producers) &&
      Array.isArray(entry.consumers);
    if (!valid)
      throw new MailroomError(CliErrorCodes.LOCK_INVALID, `${path}: the entry of ${type} is malformed; regenerate it with \`mailroom contracts snapshot\``);
  }
  return lock as ContractsLock;
}
