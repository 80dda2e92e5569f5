import secureJsonParse from 'secure-json-parse';
import { ErrorCodes, errorMessage, MailroomError } from './errors.js';

/** The default largest body accepted by a consumer or produced by a publisher: 1 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/**
 * Serializes a payload to UTF-8 JSON bytes. Throws `MAILROOM_ERR_CODEC_UNSERIALIZABLE` for values
 * JSON cannot represent (cycles, BigInt, a bare `undefined`), and `MAILROOM_ERR_CODEC_TOO_LARGE`
 * when the result exceeds `maxBytes`.
 */
export function encodeJson(data: unknown, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): Uint8Array {
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch (error) {
    throw new MailroomError(ErrorCodes.CODEC_UNSERIALIZABLE, `Payload cannot be serialized to JSON: ${errorMessage(error)}`, {
      cause: error,
      unrecoverable: true,
    });
  }
  if (text === undefined) {
    throw new MailroomError(ErrorCodes.CODEC_UNSERIALIZABLE, 'Payload cannot be serialized to JSON: it is undefined or a function', {
      unrecoverable: true,
    });
  }
  const bytes = utf8Encoder.encode(text);
  assertSize(bytes.byteLength, maxBytes);
  return bytes;
}

function assertSize(size: number, maxBytes: number): void {
  if (size > maxBytes) {
    throw new MailroomError(ErrorCodes.CODEC_TOO_LARGE, `Message body is ${size} bytes; the limit is ${maxBytes} bytes`, {
      unrecoverable: true,
      details: { size, limit: maxBytes },
    });
  }
}

/**
 * Parses UTF-8 JSON bytes into a value. The size is checked before any parsing; invalid UTF-8,
 * invalid JSON, and `__proto__` or `constructor.prototype` keys are rejected. Every failure is a
 * `MAILROOM_ERR_CODEC_TOO_LARGE` or `MAILROOM_ERR_CODEC_MALFORMED` error, never another exception.
 */
export function decodeJson(bytes: Uint8Array, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): unknown {
  assertSize(bytes.byteLength, maxBytes);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (error) {
    throw new MailroomError(ErrorCodes.CODEC_MALFORMED, 'Message body is not valid UTF-8', { cause: error, unrecoverable: true });
  }
  try {
    return secureJsonParse.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (error) {
    throw new MailroomError(ErrorCodes.CODEC_MALFORMED, `Message body is not acceptable JSON: ${errorMessage(error)}`, {
      cause: error,
      unrecoverable: true,
    });
  }
}
