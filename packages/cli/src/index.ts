/**
 * `@mailroom/cli`: the `mailroom` command (dead letters, contracts lock and check, AsyncAPI,
 * Mermaid graph, topology) and the functions behind it, for embedding in your own tooling.
 */
export { type AsyncApiDiagnostic, type AsyncApiDocument, asyncApiDocument, validateAsyncApi } from './asyncapi-document.js';
export { type CliIo, processIo } from './cli-io.js';
export { type ContractChange, type ContractChangeKind, diffContracts } from './contract-diff.js';
export { type ContractsLock, type JsonSchema, LOCK_FILE_NAME, type LockedContract, readLock, serializeLock, snapshotContracts } from './contracts-lock.js';
export { type DeadLetterSummary, groupByReason, type ReasonGroup } from './dead-letter-view.js';
export { parseSince } from './duration.js';
export { CliErrorCodes } from './errors.js';
export { type ExitCode, ExitCodes, exitCodeFor } from './exit-codes.js';
export { CONFIG_FILE_NAMES, findConfigFile, type LoadedConfig, loadConfig } from './load-config.js';
export { type MessageFlow, mermaidGraph, messageFlows } from './mermaid-graph.js';
export { type OpenTransportOptions, openTransport } from './open-transport.js';
export { CLI_VERSION, createProgram } from './program.js';
export { redactSecrets, secretsOf } from './redact-secrets.js';
export { runCli } from './run-cli.js';
export { diffSchemas, type SchemaChange, type SchemaChangeKind } from './schema-diff.js';
