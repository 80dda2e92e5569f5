import { v7 as uuidv7 } from 'uuid';
import { ErrorCodes, MailroomError } from './errors.js';

/** Transport headers: string keys (lower case by convention) and string values. */
export type Headers = Record<string, string>;

/**
 * The CloudEvents 1.0 context of a message plus Mailroom's extensions. Carried as transport
 * headers in binary mode (see {@link HeaderNames}); the body holds only the data.
 */
export interface Envelope {
  /** UUIDv7 unless the producer chose another unique id; stable across retries, replays and re-publishes. */
  readonly id: string;
  /** URI-reference of the producer, `urn:mailroom:<endpoint>` for Mailroom endpoints. */
  readonly source: string;
  /** The contract type. */
  readonly type: string;
  readonly specversion: '1.0';
  /** RFC 3339 time the message was created. */
  readonly time: string;
  readonly datacontenttype: string;
  /** The contract version the data was written with. */
  readonly dataversion: number;
  /** Shared by every message of one business process; the operation id of `202 Accepted` flows. */
  readonly correlationid: string;
  /** Id of the message whose handler produced this one. */
  readonly causationid: string | undefined;
  /** W3C `traceparent` of the message's creation context (the producer's span): the CloudEvents distributed-tracing extension. */
  readonly traceparent: string | undefined;
  /** W3C `tracestate` travelling with `traceparent` (vendor-specific trace data), when there is one. */
  readonly tracestate?: string | undefined;
}

/** The header names of the binary-mode mapping, following the CloudEvents HTTP binding (`ce-` prefix). */
export const HeaderNames = {
  id: 'ce-id',
  source: 'ce-source',
  type: 'ce-type',
  specversion: 'ce-specversion',
  time: 'ce-time',
  datacontenttype: 'content-type',
  dataversion: 'ce-dataversion',
  correlationid: 'ce-correlationid',
  causationid: 'ce-causationid',
  traceparent: 'ce-traceparent',
  tracestate: 'ce-tracestate',
} as const;

/** The JSON media type every Mailroom body uses. */
export const JSON_CONTENT_TYPE = 'application/json';

/** The default largest header set a consumer accepts, counting keys and values: 64 KiB. */
export const DEFAULT_MAX_HEADER_BYTES = 64 * 1024;

/** What a producer chooses when creating an envelope; the rest is filled in. */
export interface EnvelopeInit {
  type: string;
  dataversion: number;
  source: string;
  id?: string;
  time?: Date;
  correlationid?: string;
  causationid?: string;
  traceparent?: string;
  tracestate?: string;
}

/** Creates an envelope with a fresh UUIDv7 id; the correlation id defaults to the id itself (a new process). */
export function createEnvelope(init: EnvelopeInit): Envelope {
  const id = init.id ?? uuidv7();
  return {
    id,
    source: init.source,
    type: init.type,
    specversion: '1.0',
    time: (init.time ?? new Date()).toISOString(),
    datacontenttype: JSON_CONTENT_TYPE,
    dataversion: init.dataversion,
    correlationid: init.correlationid ?? id,
    causationid: init.causationid,
    traceparent: init.traceparent,
    ...(init.tracestate !== undefined && { tracestate: init.tracestate }),
  };
}

/** {@link HeaderNames} as (attribute, header) pairs, built once instead of per message. */
const HEADER_MAPPING = Object.entries(HeaderNames) as [keyof Envelope, string][];

/** Writes an envelope as binary-mode headers, after any `extra` headers (envelope headers win). */
export function envelopeToHeaders(envelope: Envelope, extra: Headers = {}): Headers {
  const headers: Headers = { ...extra };
  for (const [attribute, header] of HEADER_MAPPING) {
    const value = envelope[attribute];
    if (value !== undefined) headers[header] = String(value);
  }
  return headers;
}

/**
 * The layout of a W3C `traceparent` (version 00): version, trace id, parent (span) id and flags in
 * lower-case hex, captured in that order. It checks the layout only, not that the ids are non-zero.
 */
export const TRACEPARENT_PATTERN = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

function invalid(message: string): MailroomError {
  return new MailroomError(ErrorCodes.ENVELOPE_INVALID, message, { unrecoverable: true });
}

function required(headers: Headers, name: string): string {
  const value = headers[name];
  if (typeof value !== 'string' || value.length === 0) throw invalid(`Missing required header ${name}`);
  if (value.length > 1024) throw invalid(`Header ${name} is longer than 1024 characters`);
  return value;
}

/**
 * Reads and checks the envelope from binary-mode headers. Never throws anything but a
 * `MAILROOM_ERR_ENVELOPE_INVALID` or `MAILROOM_ERR_CODEC_TOO_LARGE` error. A missing correlation id
 * (a foreign producer) defaults to the message id.
 */
export function readEnvelope(headers: Headers, maxHeaderBytes = DEFAULT_MAX_HEADER_BYTES): Envelope {
  if (typeof headers !== 'object' || headers === null) throw invalid('Headers are missing');
  let size = 0;
  for (const key of Object.keys(headers)) size += key.length + String(headers[key]).length;
  if (size > maxHeaderBytes) {
    throw new MailroomError(ErrorCodes.CODEC_TOO_LARGE, `Headers are ${size} characters; the limit is ${maxHeaderBytes}`, {
      unrecoverable: true,
      details: { size, limit: maxHeaderBytes },
    });
  }
  const id = required(headers, HeaderNames.id);
  const source = required(headers, HeaderNames.source);
  const type = required(headers, HeaderNames.type);
  const specversion = required(headers, HeaderNames.specversion);
  if (specversion !== '1.0') throw invalid(`Unsupported CloudEvents specversion ${JSON.stringify(specversion)}`);
  const time = required(headers, HeaderNames.time);
  if (Number.isNaN(Date.parse(time))) throw invalid(`Header ${HeaderNames.time} is not an RFC 3339 time: ${JSON.stringify(time)}`);
  const rawVersion = required(headers, HeaderNames.dataversion);
  const dataversion = Number(rawVersion);
  if (!/^[1-9][0-9]{0,8}$/.test(rawVersion)) throw invalid(`Header ${HeaderNames.dataversion} is not a positive integer: ${JSON.stringify(rawVersion)}`);
  const datacontenttype = headers[HeaderNames.datacontenttype] ?? JSON_CONTENT_TYPE;
  if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i.test(datacontenttype)) {
    throw invalid(`Unsupported content type ${JSON.stringify(datacontenttype)}; Mailroom bodies are JSON`);
  }
  const traceparent = headers[HeaderNames.traceparent];
  const validTraceparent = traceparent && TRACEPARENT_PATTERN.test(traceparent) ? traceparent : undefined;
  const tracestate = validTraceparent ? headers[HeaderNames.tracestate] : undefined;
  return {
    id,
    source,
    type,
    specversion: '1.0',
    time,
    datacontenttype,
    dataversion,
    correlationid: headers[HeaderNames.correlationid] || id,
    causationid: headers[HeaderNames.causationid] || undefined,
    traceparent: validTraceparent,
    ...(tracestate && tracestate.length <= 512 && { tracestate }),
  };
}
