import type { AnyContract, System } from '@mailroom/core';
import type { JsonSchema } from './contracts-lock.js';

/** An AsyncAPI 3.0 document as a plain JSON value. */
export type AsyncApiDocument = Record<string, unknown>;

function messageId(contract: AnyContract, version: number): string {
  return `${contract.type}.v${version}`;
}

/** Points every local `$ref` of a payload schema (`#`, `#/$defs/X`) at the schema's new home under `components.schemas`. */
function relocate(schema: unknown, home: string): unknown {
  if (Array.isArray(schema)) return schema.map((item) => relocate(item, home));
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$schema') continue;
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#')) out[key] = `${home}${value.slice(1)}`;
    else out[key] = relocate(value, home);
  }
  return out;
}

/** The name, under `components.schemas`, of the headers every Mailroom message carries. */
const HEADERS_SCHEMA = 'MailroomHeaders';

function commonHeaders(): JsonSchema {
  const text = { type: 'string' };
  return {
    type: 'object',
    description: 'CloudEvents 1.0 attributes in binary mode (ce- headers), plus Mailroom extensions.',
    properties: {
      'ce-id': { ...text, description: 'Message id (UUIDv7 unless chosen by the producer); unchanged by retries and replays.' },
      'ce-type': { ...text, description: 'The message type.' },
      'ce-dataversion': { ...text, description: 'The contract version the data was written with.' },
      'ce-source': { ...text, description: 'The producer, urn:mailroom:<endpoint> for Mailroom endpoints.' },
      'ce-specversion': { type: 'string', const: '1.0' },
      'ce-time': { ...text, format: 'date-time' },
      'content-type': { type: 'string', const: 'application/json' },
      'ce-correlationid': { ...text, description: 'Shared by every message of one business process.' },
      'ce-causationid': { ...text, description: 'Id of the message whose handler produced this one.' },
      'ce-traceparent': { ...text, description: 'W3C trace context of the producer.' },
    },
    required: ['ce-id', 'ce-type', 'ce-dataversion', 'ce-source', 'ce-specversion', 'ce-time', 'ce-correlationid'],
  };
}

function headersSchema(contract: AnyContract, version: number): JsonSchema {
  return {
    allOf: [
      { $ref: `#/components/schemas/${HEADERS_SCHEMA}` },
      { type: 'object', properties: { 'ce-type': { const: contract.type }, 'ce-dataversion': { const: String(version) } } },
    ],
  };
}

/**
 * The AsyncAPI 3.0 document of a system: one channel per message type (its address is the type),
 * one message per accepted version with its JSON Schema payload and CloudEvents headers, and per
 * endpoint a `send` operation for each type it publishes or sends (current version) and a
 * `receive` operation for each type it consumes (every accepted version). Deterministic.
 */
export function asyncApiDocument(system: System): AsyncApiDocument {
  const channels: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = { [HEADERS_SCHEMA]: commonHeaders() };
  for (const contract of system.contracts) {
    const channelMessages: Record<string, unknown> = {};
    for (const version of contract.acceptedVersions) {
      const id = messageId(contract, version);
      const payload = contract.jsonSchema(version);
      if (payload) schemas[id] = relocate(payload, `#/components/schemas/${id}`);
      messages[id] = {
        name: contract.type,
        title: `${contract.type} v${version}`,
        ...(contract.description !== undefined && { summary: contract.description }),
        contentType: 'application/json',
        headers: headersSchema(contract, version),
        ...(payload ? { payload: { $ref: `#/components/schemas/${id}` } } : { description: 'No JSON Schema is available for this version.' }),
        'x-mailroom-kind': contract.kind,
        'x-mailroom-version': version,
      };
      channelMessages[`v${version}`] = { $ref: `#/components/messages/${id}` };
    }
    channels[contract.type] = {
      address: contract.type,
      title: contract.type,
      description:
        contract.kind === 'event'
          ? `Event${contract.description ? `: ${contract.description}` : ''}. Published to every endpoint subscribed to ${contract.type}.`
          : `Command${contract.description ? `: ${contract.description}` : ''}. Sent to the queue of its owner, ${contract.owner}.`,
      messages: channelMessages,
    };
  }
  const operations: Record<string, unknown> = {};
  const ref = (contract: AnyContract, version: number) => ({ $ref: `#/channels/${contract.type}/messages/v${version}` });
  for (const endpoint of system.endpoints) {
    for (const contract of [...endpoint.publishes, ...endpoint.sends]) {
      operations[`${endpoint.name}.${contract.kind === 'event' ? 'publishes' : 'sends'}.${contract.type}`] = {
        action: 'send',
        channel: { $ref: `#/channels/${contract.type}` },
        title: `${endpoint.name} ${contract.kind === 'event' ? 'publishes' : 'sends'} ${contract.type}`,
        ...(endpoint.description !== undefined && { description: endpoint.description }),
        messages: [ref(contract, contract.version)],
        'x-mailroom-endpoint': endpoint.name,
      };
    }
    for (const contract of endpoint.consumes) {
      operations[`${endpoint.name}.consumes.${contract.type}`] = {
        action: 'receive',
        channel: { $ref: `#/channels/${contract.type}` },
        title: `${endpoint.name} consumes ${contract.type}`,
        ...(endpoint.description !== undefined && { description: endpoint.description }),
        messages: contract.acceptedVersions.map((version) => ref(contract, version)),
        'x-mailroom-endpoint': endpoint.name,
      };
    }
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: system.name ?? 'Mailroom system',
      version: system.version,
      ...(system.description !== undefined && { description: system.description }),
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { schemas, messages },
  };
}

/** One problem @asyncapi/parser found in a document. */
export interface AsyncApiDiagnostic {
  readonly message: string;
  /** Where in the document, as a dotted path. */
  readonly path: string;
}

/**
 * Validates a document with @asyncapi/parser and returns its errors (warnings and hints are not
 * returned); an empty list means the document is valid AsyncAPI. Loads the parser on first use.
 */
export async function validateAsyncApi(document: AsyncApiDocument): Promise<AsyncApiDiagnostic[]> {
  const { Parser, DiagnosticSeverity } = await import('@asyncapi/parser');
  const { diagnostics } = await new Parser().parse(JSON.stringify(document));
  return diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error).map((d) => ({ message: d.message, path: d.path.join('.') }));
}
