import { assertEndpointName, ErrorCodes, errorMessage, HeaderNames, MailroomError, type OutgoingMessage } from '@mailroom/core';

/**
 * `value` as PostgreSQL `text` can store it: NUL characters (which `text` refuses) become U+FFFD.
 * Every other string a JavaScript program holds is stored as it is (pg writes lone surrogates as
 * U+FFFD too).
 */
export function pgText(value: string): string {
  return value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
}

/**
 * The column arrays of a batch insert: message ids, types, headers (JSON), bodies, destinations
 * (null for events), deliver-at times (null for now).
 */
export type MessageColumns = [string[], string[], string[], Buffer[], (string | null)[], (Date | null)[]];

/** Empty column arrays to fill with {@link addMessage}. */
export function emptyColumns(): MessageColumns {
  return [[], [], [], [], [], []];
}

/**
 * Adds one message to the columns of a batch insert. Headers are stored as JSON text (so NUL
 * characters and any key survive, escaped), the body as bytes; id and type are copied from the
 * envelope for listing dead letters. Throws `MAILROOM_ERR_ENDPOINT_CONFIG` for a command
 * destination that is not an endpoint name and `MAILROOM_ERR_TRANSPORT_PUBLISH_REJECTED` for
 * headers that do not serialize.
 */
export function addMessage(columns: MessageColumns, message: OutgoingMessage): void {
  const { route, headers, body } = message;
  if (route.kind === 'command') assertEndpointName(route.destination, 'command destination');
  if (!(body instanceof Uint8Array))
    throw new MailroomError(ErrorCodes.TRANSPORT_PUBLISH_REJECTED, `PostgreSQL transport: the body of ${route.type} is not a Uint8Array`);
  let json: string;
  try {
    json = JSON.stringify(headers);
  } catch (error) {
    throw new MailroomError(
      ErrorCodes.TRANSPORT_PUBLISH_REJECTED,
      `PostgreSQL transport: the headers of ${route.type} do not serialize: ${errorMessage(error)}`,
    );
  }
  if (typeof json !== 'string') throw new MailroomError(ErrorCodes.TRANSPORT_PUBLISH_REJECTED, `PostgreSQL transport: ${route.type} has no headers object`);
  const id = headers[HeaderNames.id];
  columns[0].push(typeof id === 'string' ? pgText(id) : '');
  columns[1].push(pgText(String(route.type)));
  columns[2].push(json);
  columns[3].push(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  columns[4].push(route.kind === 'command' ? route.destination : null);
  columns[5].push(message.deliverAt ?? null);
}
