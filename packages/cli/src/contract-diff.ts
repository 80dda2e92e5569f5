import type { ContractsLock, LockedContract } from './contracts-lock.js';
import { diffSchemas, type SchemaChangeKind } from './schema-diff.js';

/** What kind of change {@link diffContracts} found. */
export type ContractChangeKind =
  | SchemaChangeKind
  | 'type-added'
  | 'type-removed'
  | 'no-producer'
  | 'kind-changed'
  | 'owner-changed'
  | 'version-added'
  | 'version-removed'
  | 'version-lowered'
  | 'schema-unavailable'
  | 'producers-changed'
  | 'consumers-changed';

/** One difference between the released contracts (the lock) and the current ones. */
export interface ContractChange {
  /** The message type. */
  readonly type: string;
  /** The version concerned, when the change is about one version. */
  readonly version?: number;
  readonly change: ContractChangeKind;
  /** Dotted field path, for field changes. */
  readonly path?: string;
  /** True when a producer or consumer on one side can no longer exchange messages with one on the other. */
  readonly breaking: boolean;
  /** One sentence saying what changed, and for a breaking change how to make it safe. */
  readonly message: string;
}

function list(names: readonly string[]): string {
  return names.length === 0 ? 'nobody' : names.join(', ');
}

function diffOne(type: string, before: LockedContract, after: LockedContract): ContractChange[] {
  const changes: ContractChange[] = [];
  if (before.kind !== after.kind) {
    changes.push({
      type,
      change: 'kind-changed',
      breaking: true,
      message: `changed from ${before.kind} to ${after.kind}: messages in flight are routed the old way`,
    });
    return changes;
  }
  if (before.owner !== after.owner) {
    changes.push({
      type,
      change: 'owner-changed',
      breaking: true,
      message: `owner changed from ${before.owner ?? 'none'} to ${after.owner ?? 'none'}: senders not yet redeployed still send to ${before.owner ?? 'none'}`,
    });
  }
  if (after.version < before.version) {
    changes.push({
      type,
      change: 'version-lowered',
      breaking: true,
      message: `current version went back from v${before.version} to v${after.version}: consumers reject v${before.version} messages already sent`,
    });
  }
  for (const version of before.acceptedVersions) {
    if (after.acceptedVersions.includes(version) || version > after.version) continue;
    changes.push({
      type,
      version,
      change: 'version-removed',
      breaking: true,
      message: `v${version} is no longer accepted and has no upcaster: v${version} messages still queued or sent by producers not yet redeployed will be dead-lettered; add upcast: { ${version}: ... }`,
    });
  }
  for (const version of after.acceptedVersions) {
    if (before.acceptedVersions.includes(version)) continue;
    changes.push({
      type,
      version,
      change: 'version-added',
      breaking: false,
      message:
        version === after.version
          ? `new version v${version}: deploy its consumers (${list(after.consumers)}) before its producers (${list(after.producers)}) publish it`
          : `now accepts v${version}`,
    });
  }
  for (const version of before.acceptedVersions) {
    if (!after.acceptedVersions.includes(version)) continue;
    const oldSchema = before.schemas[String(version)];
    const newSchema = after.schemas[String(version)];
    if (!oldSchema || !newSchema) {
      changes.push({
        type,
        version,
        change: 'schema-unavailable',
        breaking: false,
        message: `v${version} has no JSON Schema ${oldSchema ? 'now' : 'in the lock'}: its fields were not checked (give the contract a jsonSchema, or use a schema library with Standard JSON Schema)`,
      });
      continue;
    }
    for (const change of diffSchemas(oldSchema, newSchema))
      changes.push({ type, version, change: change.change, path: change.path, breaking: change.breaking, message: change.detail });
  }
  const lostProducers = before.producers.length > 0 && after.producers.length === 0;
  if (lostProducers && after.consumers.length > 0) {
    changes.push({
      type,
      change: 'no-producer',
      breaking: true,
      message: `no endpoint produces it any more (it was ${list(before.producers)}) while ${list(after.consumers)} still consume${after.consumers.length === 1 ? 's' : ''} it`,
    });
  } else if (!sameList(before.producers, after.producers)) {
    changes.push({ type, change: 'producers-changed', breaking: false, message: `producers: ${list(before.producers)} -> ${list(after.producers)}` });
  }
  if (!sameList(before.consumers, after.consumers)) {
    changes.push({ type, change: 'consumers-changed', breaking: false, message: `consumers: ${list(before.consumers)} -> ${list(after.consumers)}` });
  }
  return changes;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
}

/**
 * Compares the released contracts (`before`, the lock) with the current ones (`after`) and lists
 * every change, breaking ones first, then by type. Breaking: a removed or retyped field, a new
 * required field without a default, a required field made optional, a removed version with no
 * upcaster, a lowered version, a changed kind or owner, a type removed while the lock records
 * consumers of it, and a type still consumed that no endpoint produces any more. Deterministic.
 */
export function diffContracts(before: ContractsLock, after: ContractsLock): ContractChange[] {
  const changes: ContractChange[] = [];
  const types = [...new Set([...Object.keys(before.contracts), ...Object.keys(after.contracts)])].sort();
  for (const type of types) {
    const old = before.contracts[type];
    const now = after.contracts[type];
    if (old && now) changes.push(...diffOne(type, old, now));
    else if (now) changes.push({ type, change: 'type-added', breaking: false, message: `new ${now.kind} (v${now.version})` });
    else if (old) {
      changes.push(
        old.consumers.length > 0
          ? {
              type,
              change: 'type-removed',
              breaking: true,
              message: `removed while still consumed by ${list(old.consumers)} (per the lock): first remove it from their consumes and release that, then remove the type`,
            }
          : { type, change: 'type-removed', breaking: false, message: 'removed (no endpoint consumed it)' },
      );
    }
  }
  return changes.sort((a, b) => Number(b.breaking) - Number(a.breaking));
}
