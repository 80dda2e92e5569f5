import type { DeadLetter } from '@mailroom/core';
import { oneLine, textTable } from './text-table.js';

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

function time(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The text of `dlq list`: one section per reason (see {@link groupByReason}), a table of its dead letters. */
export function renderGroups(groups: readonly ReasonGroup[]): string {
  return groups
    .map((group) => {
      const rows = group.deadLetters.map((d) => [
        d.id,
        d.endpoint,
        d.type,
        d.messageId,
        String(d.attempts),
        time(d.deadLetteredAt),
        oneLine(d.errorMessage, 72),
      ]);
      return `${group.reason} (${group.count})\n${textTable(['ID', 'ENDPOINT', 'TYPE', 'MESSAGE ID', 'ATTEMPTS', 'DEAD-LETTERED', 'ERROR'], rows, '  ')}`;
    })
    .join('\n');
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

/** The text of `dlq show`. */
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
    text
      .split('\n')
      .map((line) => `  ${line}`)
      .join('\n');
  const parts = [
    `Dead letter ${deadLetter.id}`,
    ...fields.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`),
    '',
    'Headers',
    ...Object.entries(deadLetter.headers)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, value]) => `  ${name}: ${value}`),
    '',
    `Body (${body.encoding}, ${deadLetter.body.byteLength} bytes)`,
    indent(body.encoding === 'json' ? JSON.stringify(body.value, null, 2) : String(body.value)),
  ];
  if (deadLetter.errorStack) parts.push('', 'Stack', indent(deadLetter.errorStack));
  return `${parts.join('\n')}\n`;
}
