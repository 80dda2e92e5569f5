/**
 * `@mailroom/console`: a failed-message and system console for any Mailroom system, as a Fastify
 * server with a web UI, authenticated by default. See docs/console.md.
 */
export { type ArchivedLetter, ArchiveStore } from './archive-store.js';
export { type AuditEntry, AuditTrail } from './audit-trail.js';
export { type ConsoleApp, type ConsoleAppOptions, createConsoleApp, defaultUiDir } from './console-app.js';
export { type ContractInfo, type EditResult, editAndRetry } from './edit-and-retry.js';
export { ConsoleErrorCodes } from './errors.js';
export { type GraphEdge, type GraphLayout, type GraphNode, layoutGraph } from './graph-layout.js';
export { type HeartbeatReader, heartbeatInstanceSource, type InstanceSource, type InstanceView } from './instance-source.js';
export { EDITED_FROM_HEADER, type LetterView, letterView } from './letter-view.js';
export { type JobStatus, RetryJobs } from './retry-jobs.js';
export { type RunningConsole, type StartConsoleOptions, startConsole } from './start-console.js';
