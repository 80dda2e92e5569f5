import type { HostileCase, RawAccess } from '@mailroom/conformance';
import { ErrorCodes } from '@mailroom/core';
import { jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { ESCAPED_HEADERS } from '../header-codec.js';
import { createNatsNames } from '../nats-names.js';

/** The `max_payload` of a nats-server that does not set one: 1 MiB. */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** The most header bytes JetStream stores with one message. */
const MAX_JETSTREAM_HEADER_BYTES = 64 * 1024;

const text = (value: string) => new TextEncoder().encode(value);

/** Bytes the NATS client writes for these headers (`NATS/1.0` line, one line per header, blank line). */
function encodedHeaderBytes(headers: Readonly<Record<string, unknown>>): number {
  let size = 'NATS/1.0\r\n\r\n'.length;
  for (const [name, value] of Object.entries(headers)) size += Buffer.byteLength(`${name}: ${String(value)}\r\n`);
  return size;
}

/**
 * Raw access to JetStream for the conformance suite's hostile-message tests: publishes with the
 * NATS client straight to an endpoint's command subject, headers as NATS headers (values as text),
 * so messages no Mailroom producer would write reach the transport. `maxPayload` is the server's
 * limit (the default server's 1 MiB), used to build a message just under it.
 */
export function natsRawAccess(servers: string, prefix: string, maxPayload = DEFAULT_MAX_PAYLOAD): RawAccess {
  const names = createNatsNames(prefix);
  return {
    async connect() {
      const nc = await connect({ servers });
      const js = jetstream(nc);
      return {
        async inject(endpoint, type, message) {
          if (typeof message.headers === 'string') throw new Error('NATS carries headers as name/value lines, not one text');
          const entries = Object.entries(message.headers);
          const headers = natsHeaders();
          for (const [name, value] of entries) headers.append(name, String(value));
          await js.publish(names.commandSubject(endpoint, type), message.body, entries.length > 0 ? { headers } : {});
        },
        async close() {
          await nc.close().catch(() => undefined);
        },
      };
    },
    cases: natsHostileCases(maxPayload),
    refuses: { 'oversize headers': 'JetStream stores at most 64 KiB of headers per message' },
  };
}

function natsHostileCases(maxPayload: number): HostileCase[] {
  return [
    {
      // Issue 13: the dead letter's copy (the failure details added) passed max_payload, was refused, and the message came back for ever.
      name: 'body just under max_payload',
      build: (valid) => {
        const room = maxPayload - encodedHeaderBytes(valid) - 100;
        const prefix = '{"n": 1, "case": "near max_payload", "pad": "';
        return { headers: valid, body: text(`${prefix}${'p'.repeat(room - prefix.length - 2)}"}`) };
      },
      reasons: [ErrorCodes.CODEC_TOO_LARGE],
    },
    {
      // Headers just under JetStream's 64 KiB: with the failure details they pass it, with or
      // without the body, so the letter's headers go to the object store too.
      name: 'headers just under 64 KiB',
      build: (valid) => ({
        headers: { ...valid, 'x-fill': 'f'.repeat(MAX_JETSTREAM_HEADER_BYTES - encodedHeaderBytes(valid) - 'x-fill: \r\n'.length - 200) },
        body: text('{"n": 1, "case": "fill",'),
      }),
      reasons: [ErrorCodes.CODEC_MALFORMED],
    },
    {
      name: 'forged Mailroom-Headers',
      build: (valid) => ({
        headers: { ...valid, [ESCAPED_HEADERS]: '[[1,2],"x",{"__proto__":1},["ce-id"]]' },
        body: text('{"n": 1, "case": "forged escaped headers",'),
      }),
      reasons: [ErrorCodes.CODEC_MALFORMED],
    },
  ];
}
