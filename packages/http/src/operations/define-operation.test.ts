import { defineCommand, defineEvent, isMailroomError } from '@mailroom/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HttpErrorCodes } from '../errors.js';
import { classifierFor, defineOperation } from './define-operation.js';

const Start = defineCommand('t.start', { version: 1, owner: 'svc', schema: z.object({ id: z.string() }) });
const Step = defineEvent('t.step', { version: 1, schema: z.object({ id: z.string(), secret: z.string().optional() }) });
const Done = defineEvent('t.done', { version: 1, schema: z.object({ id: z.string() }) });
const Failed = defineEvent('t.failed', { version: 1, schema: z.object({ reason: z.string() }) });

function definitionError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(isMailroomError(error, HttpErrorCodes.OPERATION_DEFINITION)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected a definition error');
}

describe('defineOperation', () => {
  it('gives each event type its role and subscribes to events only', () => {
    const operation = defineOperation({
      name: 'op',
      startedBy: Start,
      steps: [{ event: Step, label: 'Step one' }],
      completesOn: Done,
      failsOn: [Failed],
      timeout: 1000,
    });
    expect([Start, Step, Done, Failed, { type: 'other' }].map((c) => operation.roleOf(c.type))).toEqual(['started', 'step', 'completed', 'failed', undefined]);
    expect(operation.events.map((c) => c.type)).toEqual(['t.step', 't.done', 't.failed']);
    expect(operation.steps).toEqual([{ type: 't.step', label: 'Step one' }]);
  });

  it('keeps payloads through project, never the starting one', () => {
    const operation = defineOperation({
      name: 'op',
      startedBy: Start,
      steps: [Step],
      completesOn: Done,
      timeout: 1000,
      project: ({ kind, data }) => (kind === 'step' ? { id: (data as { id: string }).id } : data),
    });
    const classify = classifierFor([operation]);
    expect(classify('op', { type: 't.step', data: { id: 'a', secret: 's' } })).toEqual({ kind: 'step', data: { id: 'a' } });
    expect(classify('op', { type: 't.start', data: { id: 'a' } })).toEqual({ kind: 'started' });
    expect(classify('other-op', { type: 't.step', data: {} })).toBeUndefined();
  });

  it('refuses malformed definitions at definition time, saying what to fix', () => {
    expect(definitionError(() => defineOperation({ name: 'Bad Name', startedBy: Start, completesOn: Done, timeout: 1 }))).toContain('lower-case');
    expect(definitionError(() => defineOperation({ name: 'op', startedBy: Start, completesOn: Done, timeout: 0 }))).toContain('timeout');
    expect(definitionError(() => defineOperation({ name: 'op', startedBy: Start, completesOn: [], timeout: 1 }))).toContain('completesOn');
    expect(definitionError(() => defineOperation({ name: 'op', startedBy: Start, steps: [Start as never], completesOn: Done, timeout: 1 }))).toContain(
      'event contracts',
    );
    expect(definitionError(() => defineOperation({ name: 'op', startedBy: Start, steps: [Done], completesOn: Done, timeout: 1 }))).toContain(
      'both step and completed',
    );
  });
});
