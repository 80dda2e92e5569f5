// TEMPORARY: the dead-letter grouping API that @mailroom/core gains on branch
// console-core (issue 15), written here against the same names so the console builds before that
// branch is merged. Delete this file and import from @mailroom/core once it lands.
import type { DeadLetter, DeadLetterFilter, DeadLetterQueue } from '@mailroom/core';

/** A group of dead letters that failed the same way. */
export interface DeadLetterGroup {
  readonly fingerprint: string;
  readonly reason: string;
  readonly message: string;
  readonly topFrame: string | undefined;
  readonly count: number;
  readonly firstSeen: Date;
  readonly lastSeen: Date;
  readonly endpoints: readonly string[];
  readonly types: readonly string[];
  readonly sampleId: string;
}

function normalize(message: string): string {
  return message
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>')
    .replace(/\d+/g, '<n>')
    .replace(/"[^"]*"/g, '"…"');
}

function topFrameOf(stack: string | undefined): string | undefined {
  const line = stack?.split('\n').find((l) => /^\s+at /.test(l));
  return line?.trim().replace(/:\d+:\d+\)?$/, '');
}

/** The fingerprint of a dead letter: reason + normalized message + top stack frame. */
export function failureFingerprint(letter: DeadLetter): string {
  return `${letter.reason}|${normalize(letter.errorMessage)}|${topFrameOf(letter.errorStack) ?? ''}`;
}

/** Groups dead letters by fingerprint. */
export function groupDeadLetters(letters: readonly DeadLetter[]): DeadLetterGroup[] {
  const groups = new Map<string, { g: DeadLetterGroup; endpoints: Set<string>; types: Set<string> }>();
  for (const letter of letters) {
    const fingerprint = failureFingerprint(letter);
    const at = letter.deadLetteredAt;
    const found = groups.get(fingerprint);
    if (!found) {
      groups.set(fingerprint, {
        g: {
          fingerprint,
          reason: letter.reason,
          message: letter.errorMessage,
          topFrame: topFrameOf(letter.errorStack),
          count: 1,
          firstSeen: at,
          lastSeen: at,
          endpoints: [],
          types: [],
          sampleId: letter.id,
        },
        endpoints: new Set([letter.endpoint]),
        types: new Set([letter.type]),
      });
      continue;
    }
    found.endpoints.add(letter.endpoint);
    found.types.add(letter.type);
    found.g = {
      ...found.g,
      count: found.g.count + 1,
      firstSeen: at < found.g.firstSeen ? at : found.g.firstSeen,
      lastSeen: at > found.g.lastSeen ? at : found.g.lastSeen,
    };
  }
  return [...groups.values()]
    .map(({ g, endpoints, types }) => ({ ...g, endpoints: [...endpoints].sort(), types: [...types].sort() }))
    .sort((a, b) => b.lastSeen.getTime() - a.lastSeen.getTime());
}

/** Groups every dead letter of a queue matching the filter. */
export async function groupDeadLetterQueue(queue: DeadLetterQueue, filter: DeadLetterFilter = {}): Promise<DeadLetterGroup[]> {
  return groupDeadLetters(await queue.list(filter));
}
