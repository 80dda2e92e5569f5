import type { StandardSchemaV1 } from '@standard-schema/spec';
import { ErrorCodes, MailroomError } from './errors.js';

/** One validation problem, with a dotted path such as `items.0.sku`. */
export interface ValidationIssue {
  path: string;
  message: string;
}

function formatPath(path: StandardSchemaV1.Issue['path']): string {
  if (!path || path.length === 0) return '(root)';
  return path.map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('.');
}

/**
 * Validates `value` against a Standard Schema and returns the schema's output.
 * Throws a `MAILROOM_ERR_CONTRACT_VALIDATION` error (unrecoverable) listing every issue.
 */
export async function validateWith<S extends StandardSchemaV1>(schema: S, value: unknown, what: string): Promise<StandardSchemaV1.InferOutput<S>> {
  return validateNow(schema, value, what);
}

/**
 * As {@link validateWith}, but without a promise when the schema validates synchronously (most
 * do): the output, or a native promise of it for an asynchronous schema (one whose result is
 * any thenable). Throws (or rejects with) the same
 * `MAILROOM_ERR_CONTRACT_VALIDATION` error. For hot paths that validate every message.
 */
export function validateNow<S extends StandardSchemaV1>(
  schema: S,
  value: unknown,
  what: string,
): StandardSchemaV1.InferOutput<S> | Promise<StandardSchemaV1.InferOutput<S>> {
  const result = schema['~standard'].validate(value);
  // Any thenable is asynchronous (a promise of another realm, a library's own thenable), not only a native Promise.
  if (isThenable(result)) return Promise.resolve(result).then((settled) => outputOf<S>(settled, what));
  return outputOf<S>(result, what);
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function outputOf<S extends StandardSchemaV1>(result: StandardSchemaV1.Result<StandardSchemaV1.InferOutput<S>>, what: string): StandardSchemaV1.InferOutput<S> {
  if (result.issues) {
    const issues: ValidationIssue[] = result.issues.map((issue) => ({
      path: formatPath(issue.path),
      message: issue.message,
    }));
    const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
    throw new MailroomError(ErrorCodes.CONTRACT_VALIDATION, `${what} is invalid: ${summary}`, {
      unrecoverable: true,
      details: { issues },
    });
  }
  return result.value;
}
