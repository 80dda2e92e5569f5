import type { OperationEntry, OperationEntryKind, OperationHeader, OperationStatus } from '@mailroom/core';

/** One expected step as shown to users: done once its event was recorded, with that time. */
export interface OperationStepView {
  readonly type: string;
  readonly label: string;
  readonly done: boolean;
  /** When the step's event happened (RFC 3339), once done. */
  readonly at?: string;
}

/** An operation as `GET /operations/:id` returns it: status, expected steps and the whole history. */
export interface OperationView {
  readonly id: string;
  readonly name: string;
  readonly status: OperationStatus;
  readonly startedAt: string;
  /** When the last entry was recorded. */
  readonly updatedAt: string;
  /** When it reached its terminal state, if it did. */
  readonly endedAt?: string;
  readonly deadline?: string;
  readonly steps: readonly OperationStepView[];
  readonly entries: readonly OperationEntry[];
}

/** True for the final states: completed, failed, timed-out. */
export function isTerminalStatus(status: OperationStatus): boolean {
  return status !== 'pending';
}

/** True for the entry kinds that end an operation: completed, failed, timed-out. */
export function isTerminalKind(kind: OperationEntryKind): kind is 'completed' | 'failed' | 'timed-out' {
  return kind === 'completed' || kind === 'failed' || kind === 'timed-out';
}

/**
 * The view of an operation after the given entries (in `seq` order): a pure function, so the view
 * at any point of the history can be rebuilt, and status, times and steps always agree with the
 * entries shown.
 */
export function operationView(header: OperationHeader, entries: readonly OperationEntry[]): OperationView {
  let status: OperationStatus = 'pending';
  let endedAt: string | undefined;
  for (const entry of entries) {
    if (isTerminalKind(entry.kind)) {
      status = entry.kind;
      endedAt = entry.recordedAt;
      break;
    }
  }
  const last = entries[entries.length - 1];
  const steps = header.steps.map((step): OperationStepView => {
    const entry = entries.find((candidate) => candidate.kind === 'step' && candidate.type === step.type);
    return entry ? { type: step.type, label: step.label, done: true, at: entry.at } : { type: step.type, label: step.label, done: false };
  });
  return {
    id: header.id,
    name: header.name,
    status,
    startedAt: header.startedAt,
    updatedAt: last?.recordedAt ?? header.startedAt,
    ...(endedAt !== undefined && { endedAt }),
    ...(header.deadline !== undefined && { deadline: header.deadline }),
    steps,
    entries,
  };
}
