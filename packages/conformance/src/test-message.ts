import { createEnvelope, envelopeToHeaders, type OutgoingMessage } from '@mailroom/core';

/** A test message: envelope headers, extra headers and a body of raw bytes. */
export function testMessage(type: string, body: Uint8Array, extra: Record<string, string> = {}, destination?: string): OutgoingMessage {
  const envelope = createEnvelope({ type, dataversion: 1, source: 'urn:mailroom:conformance' });
  return {
    route: destination ? { kind: 'command', type, destination } : { kind: 'event', type },
    headers: envelopeToHeaders(envelope, extra),
    body,
  };
}
