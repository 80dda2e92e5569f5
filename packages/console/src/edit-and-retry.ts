import {
  type AnyContract,
  type DeadLetter,
  errorMessage,
  HeaderNames,
  isMailroomError,
  MailroomError,
  readIncoming,
  type System,
  type Transport,
} from '@mailroom/core';
import { v7 as uuidv7 } from 'uuid';
import type { ArchiveStore } from './archive-store.js';
import { ConsoleErrorCodes } from './errors.js';
import { EDITED_FROM_HEADER } from './letter-view.js';

/** What the console knows of a message type's contract: the JSON Schema of the version a letter carries, or that none is known. */
export interface ContractInfo {
  readonly known: boolean;
  readonly type: string;
  readonly version: number | undefined;
  readonly jsonSchema: Record<string, unknown> | undefined;
  /** What the edit is checked against, in words the UI shows. */
  readonly note: string;
}

function versionOf(letter: DeadLetter): number {
  const raw = Number(letter.headers[HeaderNames.dataversion] ?? '1');
  return Number.isSafeInteger(raw) && raw > 0 ? raw : 1;
}

function contractOf(system: System | undefined, type: string): AnyContract | undefined {
  return system?.contracts.find((contract) => contract.type === type);
}

/** The contract information the edit form shows for a letter. */
export function contractInfo(system: System | undefined, letter: DeadLetter): ContractInfo {
  const contract = contractOf(system, letter.type);
  const version = versionOf(letter);
  if (!contract) {
    return {
      known: false,
      type: letter.type,
      version,
      jsonSchema: undefined,
      note:
        system === undefined
          ? 'No contract is known: the console was started without --config, so an edit is only checked to be JSON.'
          : `No contract is known for ${letter.type} in the system's config: an edit is only checked to be JSON.`,
    };
  }
  return {
    known: true,
    type: letter.type,
    version,
    jsonSchema: contract.jsonSchema(Math.min(version, contract.version)),
    note: `Checked against the contract ${contract.type} v${version}${version < contract.version ? ` (upcast to v${contract.version})` : ''}, as its consumers will read it, before it is sent.`,
  };
}

/** The outcome of an edit-and-retry. */
export interface EditResult {
  readonly newMessageId: string;
  readonly archivedId: string;
  readonly checkedAgainst: 'contract' | 'json-only';
}

/**
 * Edit and retry: parses `bodyText` as JSON and validates it as the letter's consumers will (the
 * contract of its type, upcast from the version it carries), then keeps the original in the
 * archive (written before anything else happens, with a link to the new message), sends the
 * edited message to the letter's endpoint alone under a new message id with header
 * `mailroom-edited-from: <original message id>`, and only then removes the original from the
 * dead-letter queue. So the original is never lost: a crash between steps leaves it in the archive
 * and possibly still in the queue. Throws `MAILROOM_ERR_CONSOLE_EDIT_INVALID` (nothing sent,
 * nothing archived) when the body is not JSON or fails the contract.
 */
export async function editAndRetry(options: {
  transport: Transport;
  archive: ArchiveStore;
  system: System | undefined;
  letter: DeadLetter;
  bodyText: string;
  who: string;
}): Promise<EditResult> {
  const { transport, archive, system, letter, bodyText, who } = options;
  let data: unknown;
  try {
    data = JSON.parse(bodyText);
  } catch (error) {
    throw new MailroomError(ConsoleErrorCodes.CONSOLE_EDIT_INVALID, `The edited body is not JSON: ${errorMessage(error)}`);
  }
  const contract = contractOf(system, letter.type);
  if (contract) {
    try {
      await readIncoming(contract, data, versionOf(letter));
    } catch (error) {
      const issues = isMailroomError(error) ? error.details : undefined;
      throw new MailroomError(ConsoleErrorCodes.CONSOLE_EDIT_INVALID, `The edited body does not satisfy ${letter.type}: ${errorMessage(error)}`, {
        cause: error,
        ...(issues !== undefined && { details: issues }),
      });
    }
  }
  const newMessageId = uuidv7();
  archive.keep(letter, who, newMessageId);
  const headers = { ...letter.headers, [HeaderNames.id]: newMessageId, [EDITED_FROM_HEADER]: letter.messageId };
  await transport.publish({
    route: { kind: 'command', type: letter.type, destination: letter.endpoint },
    headers,
    body: new TextEncoder().encode(JSON.stringify(data)),
  });
  await transport.deadLetters.purge({ ids: [letter.id] });
  return { newMessageId, archivedId: letter.id, checkedAgainst: contract ? 'contract' : 'json-only' };
}
