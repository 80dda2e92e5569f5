/**
 * `@mailroom/http/internal`: the pieces of the resilient HTTP client that another client is built
 * from, for package authors (`@mailroom/rpc` runs its transport on them): the cockatiel policies
 * of one target, their option checks, and the call-or-queue engine. Not part of the public entry.
 */
export { type CallOrQueueOptions, type CallOrQueueResult, callOrQueueWith, type FailureVerdict, type QueueOptions } from './call-or-queue.js';
export { type PolicyOptions, type ResolvedPolicyOptions, resolvePolicyOptions } from './client-options.js';
export { contextOf, failSpan, parentContext } from './http-telemetry.js';
export {
  createResiliencePolicies,
  type FailureClassifier,
  isTaskCancelled,
  type PolicyRetry,
  type ResiliencePolicies,
} from './resilience-policies.js';
