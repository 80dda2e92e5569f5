import { ErrorCodes, MailroomError } from '@mailroom/core';
import { describe, expect, it } from 'vitest';
import { HttpErrorCodes } from './errors.js';
import { problemFromError } from './problem.js';

describe('problemFromError', () => {
  it('maps Mailroom codes to statuses and keeps their message', () => {
    const problem = problemFromError(new MailroomError(HttpErrorCodes.HTTP_TIMEOUT, 'GET payments/x timed out after 100 ms'));
    expect(problem).toEqual({
      type: 'about:blank',
      title: 'Gateway Timeout',
      status: 504,
      detail: 'GET payments/x timed out after 100 ms',
      code: HttpErrorCodes.HTTP_TIMEOUT,
    });
  });

  it('lists contract validation issues as field errors', () => {
    const error = new MailroomError(ErrorCodes.CONTRACT_VALIDATION, 'invalid', { details: { issues: [{ path: 'items.0.sku', message: 'Required' }] } });
    expect(problemFromError(error, { typeBase: 'https://e.com/#' })).toMatchObject({
      type: `https://e.com/#${ErrorCodes.CONTRACT_VALIDATION}`,
      status: 400,
      errors: [{ in: 'message', path: 'items.0.sku', message: 'Required' }],
    });
  });

  it('hides the message of unexpected errors and unmapped Mailroom codes', () => {
    for (const error of [new Error('password=hunter2'), new MailroomError(ErrorCodes.ENDPOINT_CONFIG, 'secret detail'), 'a string']) {
      const problem = problemFromError(error);
      expect(problem).toMatchObject({ status: 500, code: HttpErrorCodes.HTTP_INTERNAL });
      expect(JSON.stringify(problem)).not.toMatch(/hunter2|secret detail/);
    }
  });

  it('keeps the 4xx of framework errors, and lets the caller override a status', () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    expect(problemFromError(tooLarge)).toMatchObject({ status: 413, title: 'Payload Too Large', code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    const overridden = problemFromError(new MailroomError(ErrorCodes.ENDPOINT_CONFIG, 'shown'), { statusByCode: { [ErrorCodes.ENDPOINT_CONFIG]: 503 } });
    expect(overridden).toMatchObject({ status: 503, detail: 'shown', code: ErrorCodes.ENDPOINT_CONFIG });
  });
});
