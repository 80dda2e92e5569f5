/** `@mailroom/core/testing`: run several endpoints in one process, observe them, inject faults. */
export { FaultInjector, type FaultTarget } from './faults.js';
export { createTestHarness, type RecordedMessage, type RecordKind, TestHarness, type TestHarnessOptions, type WaitForOptions } from './harness.js';
export { messageOnly } from './message-only.js';
