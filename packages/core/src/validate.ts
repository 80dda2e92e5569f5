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
  let result = schema['~standard'].validate(value);
  if (result instanceof Promise) result = await result;
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
  return result.value as StandardSchemaV1.InferOutput<S>;
}
