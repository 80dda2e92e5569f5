import type { DeadLetter } from '@mailroom/core';
import { middleCut, oneLine, textTable } from './text-table.js';

/** A dead letter as `dlq list --json` prints it: everything but the body, headers and stack. */
export interface DeadLetterSummary {
  readonly id: string;
  readonly endpoint: string;
  readonly type: string;
  readonly messageId: string;
  readonly reason: string;
  readonly errorMessage: string;
  readonly attempts: number;
  readonly firstFailureAt: string;
  readonly lastFailureAt: string;
  readonly deadLetteredAt: string;
}

/** The dead letters of one reason. */
export interface ReasonGroup {
  readonly reason: string;
  readonly count: number;
  readonly deadLetters: readonly DeadLetter[];
}

/** The summary of a dead letter (times in ISO 8601). */
export function summarize(deadLetter: DeadLetter): DeadLetterSummary {
  return {
    id: deadLetter.id,
    endpoint: deadLetter.endpoint,
    type: deadLetter.type,
    messageId: deadLetter.messageId,
    reason: deadLetter.reason,
    errorMessage: deadLetter.errorMessage,
    attempts: deadLetter.attempts,
    firstFailureAt: deadLetter.firstFailureAt.toISOString(),
    lastFailureAt: deadLetter.lastFailureAt.toISOString(),
    deadLetteredAt: deadLetter.deadLetteredAt.toISOString(),
  };
}

/** Dead letters grouped by failure reason: largest group first, then by reason; each group keeps the input order. */
export function groupByReason(deadLetters: readonly DeadLetter[]): ReasonGroup[] {
  const groups = new Map<string, DeadLetter[]>();
  for (const deadLetter of deadLetters) {
    const group = groups.get(deadLetter.reason);
    if (group) group.push(deadLetter);
    else groups.set(deadLetter.reason, [deadLetter]);
  }
  return [...groups]
    .map(([reason, members]) => ({ reason, count: members.length, deadLetters: members }))
    .sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : 1));
}

// C0 controls but tab and line feed, DEL, and C1 controls (0x9b is an 8-bit CSI).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * `text` safe to print on a terminal: every control character but `\n` and `\t` is shown as `\xNN`
 * (ESC as `\x1b`, CR as `\x0d`), so a message from a foreign producer cannot move the cursor,
 * clear the screen, retitle the window or write the clipboard through escape sequences.
 */
export function printable(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function time(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The widest a table cell of `dlq list` gets; longer values (a foreign producer's 10 kB message id) are cut in the middle. */
export const LIST_COLUMN_LIMITS = { id: 40, endpoint: 40, type: 60, messageId: 40, reason: 80, error: 72 } as const;

/**
 * The text of `dlq list`: one section per reason (see {@link groupByReason}), a table of its dead
 * letters. Everything taken from the message is {@link printable} and no cell is wider than
 * {@link LIST_COLUMN_LIMITS} (ids cut in the middle, the error at its end); when a value was
 * shortened, a last line says so and points at `--json`, which prints every value whole.
 */
export function renderGroups(groups: readonly ReasonGroup[]): string {
  let cut = false;
  const cell = (text: string, max: number) => {
    const shown = middleCut(printable(text), max);
    if (shown.length < printable(text).length) cut = true;
    return shown;
  };
  const limits = LIST_COLUMN_LIMITS;
  const text = groups
    .map((group) => {
      const rows = group.deadLetters.map((d) => [
        cell(d.id, limits.id),
        cell(d.endpoint, limits.endpoint),
        cell(d.type, limits.type),
        cell(d.messageId, limits.messageId),
        String(d.attempts),
        time(d.deadLetteredAt),
        oneLine(printable(d.errorMessage.replace(/\s+/g, ' ')), limits.error),
      ]);
      return `${cell(group.reason, limits.reason)} (${group.count})\n${textTable(['ID', 'ENDPOINT', 'TYPE', 'MESSAGE ID', 'ATTEMPTS', 'DEAD-LETTERED', 'ERROR'], rows, '  ')}`;
    })
    .join('\n');
  return cut ? `${text}\nLong values are shortened with … in the middle; --json prints them whole (and dlq show ID the whole dead letter).\n` : text;
}

/** A body for people and JSON: parsed JSON when it is UTF-8 JSON, else the UTF-8 text, else base64. */
export function decodeBody(body: Uint8Array): { encoding: 'json' | 'utf8' | 'base64'; value: unknown } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return { encoding: 'base64', value: Buffer.from(body).toString('base64') };
  }
  try {
    return { encoding: 'json', value: JSON.parse(text) };
  } catch {
    return { encoding: 'utf8', value: text };
  }
}

/** A dead letter as `dlq show --json` prints it: the summary plus headers, decoded body and stack. */
export function detail(deadLetter: DeadLetter): Record<string, unknown> {
  const body = decodeBody(deadLetter.body);
  return { ...summarize(deadLetter), errorStack: deadLetter.errorStack ?? null, headers: deadLetter.headers, bodyEncoding: body.encoding, body: body.value };
}

/** The text of `dlq show`; everything taken from the message is {@link printable} (`--json` uses {@link detail}, exact). */
export function renderDetail(deadLetter: DeadLetter): string {
  const body = decodeBody(deadLetter.body);
  const fields: [string, string][] = [
    ['endpoint', deadLetter.endpoint],
    ['type', deadLetter.type],
    ['message id', deadLetter.messageId],
    ['reason', deadLetter.reason],
    ['error', deadLetter.errorMessage],
    ['attempts', String(deadLetter.attempts)],
    ['first failure', deadLetter.firstFailureAt.toISOString()],
    ['last failure', deadLetter.lastFailureAt.toISOString()],
    ['dead-lettered', deadLetter.deadLetteredAt.toISOString()],
  ];
  const width = Math.max(...fields.map(([name]) => name.length));
  const indent = (text: string) =>
    printable(text)
      .split('\n')
      .map((line) => `  ${line}`)
      .join('\n');
  const parts = [
    `Dead letter ${printable(deadLetter.id)}`,
    ...fields.map(([name, value]) => `  ${name.padEnd(width)}  ${printable(value)}`),
    '',
    'Headers',
    ...Object.entries(deadLetter.headers)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, value]) => `  ${printable(name)}: ${printable(value)}`),
    '',
    `Body (${body.encoding}, ${deadLetter.body.byteLength} bytes)`,
    indent(body.encoding === 'json' ? JSON.stringify(body.value, null, 2) : String(body.value)),
  ];
  if (deadLetter.errorStack) parts.push('', 'Stack', indent(deadLetter.errorStack));
  return `${parts.join('\n')}\n`;
}
