import { type DeadLetterQueue, failureFingerprint } from '@mailroom/core';

/** Which dead letters an action applies to: given ids, one failure group, everything dead-lettered before a cut-off, or all. */
export type LetterSelection = { readonly ids: readonly string[] } | { readonly fingerprint: string } | { readonly before: Date } | { readonly all: true };

/** The selection a request body describes, or undefined when it names none (or a malformed one). */
export function selectionOf(body: { ids?: string[]; fingerprint?: string; before?: string; all?: boolean }): LetterSelection | undefined {
  if (Array.isArray(body.ids)) return { ids: body.ids };
  if (typeof body.fingerprint === 'string') return { fingerprint: body.fingerprint };
  if (typeof body.before === 'string') {
    const before = new Date(body.before);
    return Number.isNaN(before.getTime()) ? undefined : { before };
  }
  if (body.all === true) return { all: true };
  return undefined;
}

/** A stable text for a selection, to bind a confirm token to exactly what it deletes. */
export function selectionKey(selection: LetterSelection): string {
  if ('ids' in selection) return `ids:${[...selection.ids].sort().join(',')}`;
  if ('fingerprint' in selection) return `fingerprint:${selection.fingerprint}`;
  if ('before' in selection) return `before:${selection.before.toISOString()}`;
  return 'all';
}

/** The ids of the dead letters a selection covers now, oldest first. */
export async function resolveSelection(queue: DeadLetterQueue, selection: LetterSelection): Promise<string[]> {
  if ('ids' in selection) return [...selection.ids];
  if ('before' in selection) return (await queue.list({ before: selection.before })).map((letter) => letter.id);
  const letters = await queue.list();
  if ('fingerprint' in selection) return letters.filter((letter) => failureFingerprint(letter) === selection.fingerprint).map((letter) => letter.id);
  return letters.map((letter) => letter.id);
}
