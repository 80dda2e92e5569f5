import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import type { DeadLetter } from '@mailroom/core';

/** A dead letter the console took out of the dead-letter queue and kept: archived by an operator, or the original of an edit-and-retry. */
export interface ArchivedLetter {
  /** The dead letter's transport id. */
  readonly id: string;
  readonly endpoint: string;
  readonly messageId: string;
  readonly type: string;
  readonly headers: Record<string, string>;
  /** The body, byte for byte, base64. */
  readonly bodyBase64: string;
  readonly reason: string;
  readonly errorMessage: string;
  readonly errorStack: string | undefined;
  readonly attempts: number;
  readonly firstFailureAt: string;
  readonly lastFailureAt: string;
  readonly deadLetteredAt: string;
  readonly archivedAt: string;
  readonly archivedBy: string;
  /** Set when the letter was edited and resent: the new message's id (it carries `mailroom-edited-from: <messageId>`). */
  readonly editedTo?: string;
}

/**
 * The console's archive: an append-only file of JSON lines, read back at start. {@link keep}
 * returns only once the letter is written, so a caller that removes the letter from the
 * dead-letter queue afterwards never loses it.
 */
export class ArchiveStore {
  private readonly entries = new Map<string, ArchivedLetter>();

  constructor(readonly file: string) {
    if (!existsSync(file)) return;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const entry = JSON.parse(line) as ArchivedLetter;
      this.entries.set(entry.id, entry);
    }
  }

  /** Writes the letter to the archive file (synchronously) and returns its entry. */
  keep(letter: DeadLetter, archivedBy: string, editedTo?: string): ArchivedLetter {
    const entry: ArchivedLetter = {
      id: letter.id,
      endpoint: letter.endpoint,
      messageId: letter.messageId,
      type: letter.type,
      headers: { ...letter.headers },
      bodyBase64: Buffer.from(letter.body).toString('base64'),
      reason: letter.reason,
      errorMessage: letter.errorMessage,
      errorStack: letter.errorStack,
      attempts: letter.attempts,
      firstFailureAt: letter.firstFailureAt.toISOString(),
      lastFailureAt: letter.lastFailureAt.toISOString(),
      deadLetteredAt: letter.deadLetteredAt.toISOString(),
      archivedAt: new Date().toISOString(),
      archivedBy,
      ...(editedTo !== undefined && { editedTo }),
    };
    appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
    this.entries.set(entry.id, entry);
    return entry;
  }

  get(id: string): ArchivedLetter | undefined {
    return this.entries.get(id);
  }

  /** The entry whose edit produced the message `messageId`, if any. */
  editedInto(messageId: string): ArchivedLetter | undefined {
    for (const entry of this.entries.values()) if (entry.editedTo === messageId) return entry;
    return undefined;
  }

  /** Every archived letter, most recently archived first. */
  list(): ArchivedLetter[] {
    return [...this.entries.values()].reverse();
  }
}
