import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { MailroomError } from '@mailroom/core';
import { HttpErrorCodes } from '../errors.js';

/** The shortest operator token accepted from configuration (a generated one has 43 characters, 256 bits). */
export const MIN_OPERATOR_TOKEN_LENGTH = 16;
const MAX_OPERATOR_TOKEN_LENGTH = 512;

/** The operator token a server runs with, and whether it was generated at start (then print its login link once). */
export interface OperatorToken {
  readonly token: string;
  readonly generated: boolean;
}

/** A new operator token: 256 random bits, base64url (43 characters, safe in a URL as it is). */
export function generateOperatorToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The operator token from configuration (`value`, e.g. an environment variable named `name`), or a
 * generated one when it is unset or empty. A configured token must be 16 to 512 printable ASCII
 * characters without spaces; anything else throws `MAILROOM_ERR_HTTP_CONFIG` naming `name`.
 */
export function resolveOperatorToken(value: string | undefined, name = 'token'): OperatorToken {
  if (value === undefined || value.trim() === '') return { token: generateOperatorToken(), generated: true };
  if (value.length < MIN_OPERATOR_TOKEN_LENGTH || value.length > MAX_OPERATOR_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(value)) {
    throw new MailroomError(
      HttpErrorCodes.HTTP_CONFIG,
      `${name} is not a usable operator token: use ${MIN_OPERATOR_TOKEN_LENGTH} to ${MAX_OPERATOR_TOKEN_LENGTH} printable characters without spaces (e.g. the output of: openssl rand -base64 32), or unset it to get one generated at start`,
    );
  }
  return { token: value, generated: false };
}

/** A comparer of candidate tokens against `token` in constant time (both sides hashed first, so lengths leak nothing). */
export function tokenMatcher(token: string): (candidate: unknown) => boolean {
  const expected = createHash('sha256').update(token).digest();
  return (candidate) => typeof candidate === 'string' && timingSafeEqual(createHash('sha256').update(candidate).digest(), expected);
}

/** A stable, non-secret name of a token for audit entries: the first 8 hex digits of its SHA-256. */
export function tokenRef(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 8);
}
