import type { DeadLetter } from '@mailroom/core';
import { describe, expect, it } from 'vitest';
import { decodeBody, groupByReason, renderDetail, renderGroups } from './dead-letter-view.js';

const at = new Date('2025-06-01T10:00:00.123Z');
function deadLetter(id: string, reason: string, errorMessage: string): DeadLetter {
  return {
    id,
    endpoint: 'billing',
    messageId: `m-${id}`,
    type: 'shop.OrderPlaced',
    headers: { 'ce-type': 'shop.OrderPlaced', 'ce-id': `m-${id}` },
    body: new TextEncoder().encode('{"orderId":"o-1"}'),
    reason,
    errorMessage,
    errorStack: undefined,
    attempts: 7,
    firstFailureAt: at,
    lastFailureAt: at,
    deadLetteredAt: at,
  };
}

describe('dead letter views', () => {
  const letters = [
    deadLetter('1', 'MAILROOM_ERR_HANDLER_FAILED', 'timeout\n  calling payments'),
    deadLetter('2', 'MAILROOM_ERR_CONTRACT_VALIDATION', 'total: expected number'),
    deadLetter('3', 'MAILROOM_ERR_HANDLER_FAILED', 'x'.repeat(100)),
  ];

  it('groups by reason, largest group first, keeping the order inside a group', () => {
    expect(groupByReason(letters).map((g) => [g.reason, g.deadLetters.map((d) => d.id)])).toEqual([
      ['MAILROOM_ERR_HANDLER_FAILED', ['1', '3']],
      ['MAILROOM_ERR_CONTRACT_VALIDATION', ['2']],
    ]);
  });

  it('renders one table per reason, errors on one line and cut at 72 characters', () => {
    const text = renderGroups(groupByReason(letters));
    expect(text.split('\n')).toEqual([
      'MAILROOM_ERR_HANDLER_FAILED (2)',
      '  ID  ENDPOINT  TYPE              MESSAGE ID  ATTEMPTS  DEAD-LETTERED         ERROR',
      '  1   billing   shop.OrderPlaced  m-1         7         2025-06-01T10:00:00Z  timeout calling payments',
      `  3   billing   shop.OrderPlaced  m-3         7         2025-06-01T10:00:00Z  ${'x'.repeat(71)}…`,
      '',
      'MAILROOM_ERR_CONTRACT_VALIDATION (1)',
      '  ID  ENDPOINT  TYPE              MESSAGE ID  ATTEMPTS  DEAD-LETTERED         ERROR',
      '  2   billing   shop.OrderPlaced  m-2         7         2025-06-01T10:00:00Z  total: expected number',
      '',
    ]);
  });

  it('decodes bodies as JSON, else text, else base64', () => {
    expect(decodeBody(new TextEncoder().encode('{"a":1}'))).toEqual({ encoding: 'json', value: { a: 1 } });
    expect(decodeBody(new TextEncoder().encode('not json'))).toEqual({ encoding: 'utf8', value: 'not json' });
    expect(decodeBody(new Uint8Array([0xff, 0xfe]))).toEqual({ encoding: 'base64', value: '//4=' });
    expect(renderDetail(letters[1] as DeadLetter)).toContain('Body (json, 17 bytes)\n  {\n    "orderId": "o-1"\n  }\n');
  });
});
