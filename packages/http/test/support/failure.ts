import { type HttpError, isHttpError } from '../../src/http-error.js';

/** The HttpError `promise` rejects with; throws when it resolves or rejects with anything else. */
export async function failure(promise: Promise<unknown>): Promise<HttpError> {
  try {
    await promise;
  } catch (error) {
    if (isHttpError(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}
