import { describe, expect, it } from 'vitest';
import { HttpErrorCodes } from './errors.js';
import { countsAgainstBreaker, HttpError, isHttpError, isTransientStatus } from './http-error.js';

const statusError = (status: number) =>
  new HttpError(HttpErrorCodes.HTTP_STATUS, `answered ${status}`, {
    target: 't',
    method: 'GET',
    path: '/',
    status,
    transient: isTransientStatus(status),
    attempts: 1,
  });

describe('HTTP error classification', () => {
  it('retries 408, 429 and 5xx except 501 and 505; the breaker counts 5xx only', () => {
    const statuses = [400, 404, 408, 409, 422, 429, 500, 501, 502, 503, 504, 505];
    expect(statuses.filter(isTransientStatus)).toEqual([408, 429, 500, 502, 503, 504]);
    expect(statuses.filter((status) => countsAgainstBreaker(statusError(status)))).toEqual([500, 502, 503, 504]);
    const network = new HttpError(HttpErrorCodes.HTTP_NETWORK, 'refused', { target: 't', method: 'GET', path: '/', transient: true, attempts: 1 });
    expect(countsAgainstBreaker(network)).toBe(true);
    expect(countsAgainstBreaker(new Error('x'))).toBe(false);
  });

  it('is recognized by brand, with its fields in details', () => {
    const error = statusError(503);
    expect(isHttpError(error)).toBe(true);
    expect(isHttpError(error, HttpErrorCodes.HTTP_TIMEOUT)).toBe(false);
    expect(isHttpError({ code: HttpErrorCodes.HTTP_STATUS })).toBe(false);
    expect(error.details).toEqual({ target: 't', method: 'GET', path: '/', status: 503, breakerOpen: false, transient: true, attempts: 1 });
  });
});
