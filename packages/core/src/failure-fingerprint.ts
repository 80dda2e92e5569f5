import { createHash } from 'node:crypto';
import type { DeadLetter } from './transport.js';

/** The parts of a dead letter a fingerprint is computed from. */
export type FingerprintSource = Pick<DeadLetter, 'reason' | 'errorMessage' | 'errorStack'>;

/** What {@link describeFailure} finds: the normalized message, the top stack frame and their fingerprint. */
export interface FailureDescription {
  /** Hex digest of reason, normalized message and top frame: equal for failures that differ only in their data. */
  readonly fingerprint: string;
  readonly reason: string;
  readonly message: string;
  readonly topFrame: string | undefined;
}

/** Longest message part taken into a fingerprint (characters): the start of a message says what failed. */
const MAX_MESSAGE = 1000;

// Order matters: a quoted string or a timestamp holds numbers, a uuid holds hex.
const REPLACEMENTS: readonly (readonly [RegExp, string])[] = [
  // A quote opens after a non-word character only, so the apostrophe of "doesn't" opens nothing.
  [/(?<!\w)(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\\n]|\\.)*`)/g, '<string>'],
  [/\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b/gi, '<timestamp>'],
  [/\b\d{2}:\d{2}:\d{2}(?:\.\d+)?\b/g, '<timestamp>'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
  [/\b0x[0-9a-f]+\b/gi, '<hex>'],
  // A long run of hex with a digit in it (digests, object ids); words of letters a-f alone stay.
  [/\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b/gi, '<hex>'],
  // Ids: a word of 6 or more letters, digits, - and _ with both a letter and a digit in it (ulid, nanoid, order-1234).
  [/(?<![\w<])(?=[\w-]*[a-z])(?=[\w-]*\d)[a-z0-9][\w-]{5,}(?![\w>])/gi, '<id>'],
  [/-?\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b/gi, '<n>'],
];

/**
 * The error message with its data replaced by placeholders, so failures that differ only in the
 * data they were about read alike: quoted strings `<string>`, timestamps `<timestamp>`, uuids
 * `<uuid>`, hex numbers and digests `<hex>`, ids mixing letters and digits `<id>`, numbers `<n>`;
 * white space collapsed; cut at 1000 characters. Pure and idempotent.
 */
export function normalizeErrorMessage(message: string): string {
  let text = message.length > MAX_MESSAGE ? message.slice(0, MAX_MESSAGE) : message;
  for (const [pattern, placeholder] of REPLACEMENTS) text = text.replace(pattern, placeholder);
  return text.replace(/\s+/g, ' ').trim();
}

const FRAME = /^\s*at\s+(?:async\s+)?(?:(.*?)\s+\((.*)\)|(.*))\s*$/;

/**
 * The file of a stack frame without its machine-specific part: no `file://`, query, line or
 * column; within `node_modules` from the package on, elsewhere the last three path segments
 * (so the same code deployed in two directories gives the same frame).
 */
export function normalizeFramePath(location: string): string {
  let path = location
    .replace(/^file:\/\//, '')
    .replace(/\?.*$/, '')
    .replace(/(?::\d+){1,2}$/, '')
    .replace(/\\/g, '/')
    .replace(/^[a-z]:\//i, '/');
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) return path.slice(modules);
  if (!path.startsWith('/')) return path;
  path = path.slice(1);
  return path.split('/').slice(-3).join('/');
}

/**
 * The top frame of a V8 stack (`at fn (file:line:col)`) as `fn (file)`, or `file` for an anonymous
 * function, the file as {@link normalizeFramePath} gives it; undefined when the stack has no frame.
 */
export function topStackFrame(stack: string | undefined): string | undefined {
  if (!stack) return undefined;
  for (const line of stack.split('\n')) {
    const match = FRAME.exec(line);
    if (!match) continue;
    const [, name, inParens, bare] = match;
    if (name !== undefined && inParens !== undefined) return `${name} (${normalizeFramePath(inParens)})`;
    if (bare !== undefined && bare !== '') return normalizeFramePath(bare);
  }
  return undefined;
}

/**
 * The normalized message, top frame and fingerprint of a failure. Pure: the same reason, message
 * shape and top frame always give the same fingerprint, on any machine and in any directory.
 */
export function describeFailure(letter: FingerprintSource): FailureDescription {
  const message = normalizeErrorMessage(letter.errorMessage ?? '');
  const topFrame = topStackFrame(letter.errorStack);
  const fingerprint = createHash('sha256')
    .update(`${letter.reason}\n${message}\n${topFrame ?? ''}`)
    .digest('hex')
    .slice(0, 32);
  return { fingerprint, reason: letter.reason, message, topFrame };
}

/**
 * The failure fingerprint of a dead letter: a hex digest of its reason (the error code), its
 * normalized error message ({@link normalizeErrorMessage}) and its top stack frame (function and
 * file, no line, column or absolute path prefix). Dead letters that failed the same way share it.
 */
export function failureFingerprint(letter: FingerprintSource): string {
  return describeFailure(letter).fingerprint;
}
