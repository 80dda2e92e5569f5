import type { DeadLetter } from '@mailroom/core';
import { describe, expect, it } from 'vitest';
import { decodeBody, detail, groupByReason, renderDetail, renderGroups } from './dead-letter-view.js';

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

  it('shortens huge ids, endpoints and types in the middle, says so and points at --json', () => {
    const huge = { ...deadLetter('4', 'MAILROOM_ERR_ENVELOPE_INVALID', 'bad'), messageId: `start-${'9'.repeat(10_000)}-end`, type: `t.${'y'.repeat(500)}` };
    const lines = renderGroups(groupByReason([huge])).split('\n');
    const row = lines[2] as string;
    expect(row.length).toBeLessThan(220);
    expect(row).toContain(`start-${'9'.repeat(14)}…${'9'.repeat(15)}-end`);
    expect(row).toContain(`t.${'y'.repeat(28)}…${'y'.repeat(29)}`);
    expect(lines.at(-2)).toBe('Long values are shortened with … in the middle; --json prints them whole (and dlq show ID the whole dead letter).');
    expect(renderGroups(groupByReason(letters))).not.toContain('shortened');
  });

  it('decodes bodies as JSON, else text, else base64', () => {
    expect(decodeBody(new TextEncoder().encode('{"a":1}'))).toEqual({ encoding: 'json', value: { a: 1 } });
    expect(decodeBody(new TextEncoder().encode('not json'))).toEqual({ encoding: 'utf8', value: 'not json' });
    expect(decodeBody(new Uint8Array([0xff, 0xfe]))).toEqual({ encoding: 'base64', value: '//4=' });
    expect(renderDetail(letters[1] as DeadLetter)).toContain('Body (json, 17 bytes)\n  {\n    "orderId": "o-1"\n  }\n');
  });

  it('escapes control characters from the message in text, except new lines and tabs, and keeps JSON exact', () => {
    const esc = '\u001b';
    const hostile: DeadLetter = {
      ...deadLetter(`7${esc}[2J`, `REASON${esc}]0;owned\u0007`, `failed${esc}[31m red\rover\u009b1m`),
      type: `shop.${esc}[8mHidden`,
      messageId: 'm\u0000x',
      endpoint: 'billing\u007f',
      headers: { [`x-${esc}[1m`]: `v${esc}]52;c;cGF5bG9hZA==\u0007`, 'ce-type': 'shop.OrderPlaced' },
      body: new TextEncoder().encode(`plain ${esc}[2J text\n\tindented\u0008`),
      errorStack: `Error: boom${esc}[0m\n\tat handler (x.ts:1:1)`,
    };
    const controls = (text: string) =>
      [...text].filter((c) => {
        const code = c.charCodeAt(0);
        return (code < 0x20 && c !== '\n' && c !== '\t') || (code >= 0x7f && code <= 0x9f);
      });
    const list = renderGroups(groupByReason([hostile]));
    const show = renderDetail(hostile);
    expect(controls(list)).toEqual([]);
    expect(controls(show)).toEqual([]);
    expect(list).toContain('REASON\\x1b]0;owned\\x07 (1)');
    expect(list).toContain('7\\x1b[2J  billing\\x7f  shop.\\x1b[8mHidden  m\\x00x');
    expect(list).toContain('failed\\x1b[31m red over\\x9b1m');
    expect(show).toContain('Dead letter 7\\x1b[2J\n');
    expect(show).toContain('  x-\\x1b[1m: v\\x1b]52;c;cGF5bG9hZA==\\x07\n');
    expect(show).toContain('  error          failed\\x1b[31m red\\x0dover\\x9b1m\n');
    expect(show).toContain('Body (utf8, 26 bytes)\n  plain \\x1b[2J text\n  \tindented\\x08\n');
    expect(show).toContain('Stack\n  Error: boom\\x1b[0m\n  \tat handler (x.ts:1:1)\n');
    expect(detail(hostile)).toMatchObject({ id: hostile.id, type: hostile.type, headers: hostile.headers, body: `plain ${esc}[2J text\n\tindented\u0008` });
  });
});
