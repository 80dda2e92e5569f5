import { type DeadLetter, type DeadLetterFilter, type DeadLetterQueue, ErrorCodes, HeaderNames, MailroomError } from '@mailroom/core';
import { checkDeadLetterFilter, checkPageFilter, headersFrom, matchesFilter, pageDeadLetters, selectDeadLetters } from '@mailroom/core/internal';
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/nats-core';
import type { DeadLetterObjects } from './dead-letter-objects.js';
import { DEAD_LETTER_HEADER, DEAD_LETTER_OBJECTS_HEADER, decodeHeaders, encodeHeaders } from './header-codec.js';
import type { NatsNames } from './nats-names.js';
import { isNotFound } from './nats-topology.js';
import type { DeadLetterObjectRefs } from './write-dead-letter.js';

/** What the dead-letter queue needs from its transport. */
export interface DeadLetterContext {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly names: NatsNames;
  /** Where bodies and headers too large for one dead-letter message are kept. */
  readonly objects: DeadLetterObjects;
  readonly ready: () => Promise<void>;
  /** Publishes durably (see `publishDurably`). */
  readonly publish: (subject: string, body: Uint8Array, headers: MsgHdrs, msgID: string) => Promise<void>;
}

interface RawLetter {
  readonly seq: number;
  readonly subject: string;
  readonly headers: MsgHdrs | undefined;
  readonly data: Uint8Array;
  readonly time: Date;
}

const LIST_BATCH = 1000;

/** Whether NATS subject `subject` matches `filter` (tokens, `*` one, `>` the rest). */
function subjectMatches(filter: string, subject: string): boolean {
  const want = filter.split('.');
  const have = subject.split('.');
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '>') return have.length > i;
    if (i >= have.length || (want[i] !== '*' && want[i] !== have[i])) return false;
  }
  return want.length === have.length;
}

function notFound(id: string): MailroomError {
  return new MailroomError(ErrorCodes.DEAD_LETTER_NOT_FOUND, `No dead letter with id ${JSON.stringify(id)}`);
}

/** The objects a dead letter refers to (written by `writeDeadLetter`), when it refers to any. */
function objectRefs(raw: RawLetter): DeadLetterObjectRefs | undefined {
  const text = raw.headers?.get(DEAD_LETTER_OBJECTS_HEADER);
  if (!text) return undefined;
  try {
    const refs: unknown = JSON.parse(text);
    const { body, headers } = (refs ?? {}) as Record<string, unknown>;
    if (typeof body === 'string' && (headers === undefined || typeof headers === 'string')) return headers === undefined ? { body } : { body, headers };
  } catch {
    // Written by something else than this transport.
  }
  return undefined;
}

/** The objects' names, for deleting them with their letter. */
function objectNames(refs: DeadLetterObjectRefs | undefined): string[] {
  return refs === undefined ? [] : [refs.body, ...(refs.headers === undefined ? [] : [refs.headers])];
}

function toDeadLetter(names: NatsNames, raw: RawLetter): DeadLetter | undefined {
  const parts = names.parseSubject(raw.subject);
  if (!parts) return undefined;
  let failure: Record<string, unknown> = {};
  try {
    failure = JSON.parse(raw.headers?.get(DEAD_LETTER_HEADER) ?? '{}');
  } catch {
    // Written by something else than this transport: keep what the subject and headers tell.
  }
  const headers = decodeHeaders(raw.headers);
  const date = (value: unknown) => (typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? new Date(value) : raw.time);
  return {
    id: String(raw.seq),
    endpoint: parts.endpoint,
    messageId: headers[HeaderNames.id] ?? '',
    type: headers[HeaderNames.type] ?? parts.type,
    headers,
    body: raw.data,
    reason: typeof failure.reason === 'string' ? failure.reason : ErrorCodes.HANDLER_FAILED,
    errorMessage: typeof failure.errorMessage === 'string' ? failure.errorMessage : '',
    errorStack: typeof failure.errorStack === 'string' ? failure.errorStack : undefined,
    attempts: typeof failure.attempts === 'number' ? failure.attempts : 0,
    firstFailureAt: date(failure.firstFailureAt),
    lastFailureAt: date(failure.lastFailureAt),
    deadLetteredAt: raw.time,
  };
}

/**
 * The dead letters of a NATS transport, stored in the dead-letter stream under
 * `<prefix>.dlq.<endpoint>.<type>`: original headers and body byte for byte, the failure in the
 * `Mailroom-Dead-Letter` header. A dead letter's id is its stream sequence. Lists read with an
 * ordered consumer filtered by subject and start time; replay publishes to the endpoint's command
 * subject (so it reaches that endpoint only) and then deletes the dead letter.
 */
export function createNatsDeadLetters(context: DeadLetterContext): DeadLetterQueue {
  const { js, jsm, names, objects } = context;
  const stream = names.deadLettersStream;

  /** The letter with the body and headers it keeps in the object store put back. */
  async function read(raw: RawLetter): Promise<DeadLetter | undefined> {
    const letter = toDeadLetter(names, raw);
    const refs = objectRefs(raw);
    if (!letter || !refs) return letter;
    const body = await objects.get(refs.body);
    const headersJson = refs.headers === undefined ? undefined : await objects.get(refs.headers);
    let headers = letter.headers;
    if (headersJson !== undefined) {
      try {
        const parsed: unknown = JSON.parse(new TextDecoder().decode(headersJson));
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) headers = headersFrom(Object.entries(parsed));
      } catch {
        // Keep the summary the letter carries.
      }
    }
    return { ...letter, headers, body: body ?? letter.body, messageId: headers[HeaderNames.id] ?? letter.messageId };
  }

  async function getRaw(id: string): Promise<RawLetter> {
    if (!/^[1-9][0-9]{0,15}$/.test(id)) throw notFound(id);
    await context.ready();
    try {
      const stored = await jsm.streams.getMessage(stream, { seq: Number(id) });
      if (!stored) throw notFound(id);
      return { seq: stored.seq, subject: stored.subject, headers: stored.header, data: stored.data, time: stored.time };
    } catch (error) {
      if (error instanceof MailroomError) throw error;
      if (/no message found|not found/i.test(String((error as Error)?.message))) throw notFound(id);
      throw error;
    }
  }

  async function scan(filter: DeadLetterFilter): Promise<DeadLetter[]> {
    await context.ready();
    const consumer = await js.consumers.get(stream, {
      filter_subjects: names.deadLetterFilter(filter.endpoint, filter.type),
      ...(filter.since ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: filter.since.toISOString() } : { deliver_policy: DeliverPolicy.All }),
    });
    const letters: DeadLetter[] = [];
    const limit = filter.limit ?? Number.POSITIVE_INFINITY;
    try {
      let pending = (await consumer.info(true)).num_pending;
      while (pending > 0 && letters.length < limit) {
        const batch = await consumer.fetch({ max_messages: Math.min(pending, LIST_BATCH), expires: 5000 });
        let received = 0;
        for await (const m of batch) {
          received += 1;
          pending = m.info.pending;
          const letter = await read({
            seq: m.seq,
            subject: m.subject,
            headers: m.headers,
            data: m.data,
            time: new Date(Math.floor(m.info.timestampNanos / 1e6)),
          });
          if (letter && matchesFilter(letter, filter)) letters.push(letter);
          if (pending === 0 || letters.length >= limit) break;
        }
        if (received === 0) break;
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
    return letters.slice(0, limit);
  }

  /** Dead letters matching the filter in stream order (order ignored; limit applies in stream order). */
  async function listInStreamOrder(filter: DeadLetterFilter): Promise<DeadLetter[]> {
    if (filter.ids) {
      const letters: DeadLetter[] = [];
      for (const id of [...new Set(filter.ids)]) {
        const raw = await getRaw(id).catch((error) => (error instanceof MailroomError ? undefined : Promise.reject(error)));
        const letter = raw && (await read(raw));
        if (letter && matchesFilter(letter, filter)) letters.push(letter);
      }
      letters.sort((a, b) => Number(a.id) - Number(b.id));
      return filter.limit === undefined ? letters : letters.slice(0, filter.limit);
    }
    return scan(filter);
  }

  const queue: DeadLetterQueue = {
    async list(filter = {}) {
      const order = checkDeadLetterFilter(filter);
      if (order === 'newest-first' && filter.limit !== undefined) {
        // The stream reads forward only: read every match, then take the newest.
        return (await queue.list({ ...filter, order: 'oldest-first', limit: undefined })).reverse().slice(0, filter.limit);
      }
      return selectDeadLetters(await listInStreamOrder(filter), filter, order);
    },
    // The stream cannot seek by (time, id) nor read backwards: a page reads every match (one pass
    // over the letters of the endpoint and type subjects), then cuts the page in memory.
    async page(filter = {}) {
      checkPageFilter(filter, 'nats');
      const { cursor: _cursor, limit: _limit, order: _order, ...matching } = filter;
      return pageDeadLetters(await listInStreamOrder(matching), filter, 'nats');
    },
    async get(id) {
      const letter = await read(await getRaw(id));
      if (!letter) throw notFound(id);
      return letter;
    },
    async replay(id) {
      const raw = await getRaw(id);
      const letter = await read(raw);
      const parts = names.parseSubject(raw.subject);
      if (!letter || !parts) throw notFound(id);
      // A replay id of its own: the original id is still in the dedup window of the streams.
      await context.publish(names.commandSubject(parts.endpoint, parts.type), letter.body, encodeHeaders(letter.headers), `replay:${stream}:${id}`);
      try {
        await jsm.streams.deleteMessage(stream, raw.seq, false);
      } catch (error) {
        if (!isNotFound(error) && !/no message found/i.test(String((error as Error)?.message))) throw error;
      }
      await objects.remove(objectNames(objectRefs(raw)));
    },
    async purge(filter = {}) {
      checkDeadLetterFilter(filter);
      await context.ready();
      if (filter.ids === undefined && filter.since === undefined && filter.before === undefined && filter.limit === undefined) {
        const subjects = names.deadLetterFilter(filter.endpoint, filter.type);
        const response = await jsm.streams.purge(stream, { filter: subjects });
        if (response.purged > 0) await objects.removeWhere((subject) => subjectMatches(subjects, subject));
        return response.purged;
      }
      let purged = 0;
      for (const letter of await queue.list(filter)) {
        const raw = await getRaw(letter.id).catch(() => undefined);
        if (await jsm.streams.deleteMessage(stream, Number(letter.id), false).catch(() => false)) {
          purged += 1;
          if (raw) await objects.remove(objectNames(objectRefs(raw)));
        }
      }
      return purged;
    },
  };
  return queue;
}
