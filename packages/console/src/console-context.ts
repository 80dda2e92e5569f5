import type { System, Transport } from '@mailroom/core';
import type { ArchiveStore } from './archive-store.js';
import type { AuditTrail } from './audit-trail.js';
import type { Confirmations } from './confirmations.js';
import type { GroupsCache } from './groups-cache.js';
import type { InstanceSource } from './instance-source.js';
import type { RetryJobs } from './retry-jobs.js';

/** What the console's routes share. */
export interface ConsoleContext {
  readonly transport: Transport;
  readonly system: System | undefined;
  readonly archive: ArchiveStore;
  readonly audit: AuditTrail;
  readonly jobs: RetryJobs;
  readonly confirmations: Confirmations;
  readonly groups: GroupsCache;
  /** Endpoint instances from their heartbeats, when a monitor runs. */
  readonly instances: InstanceSource | undefined;
}
